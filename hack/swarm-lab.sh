#!/usr/bin/env bash
# swarm-lab.sh: a throw-away Docker Swarm of N managers on one machine, for
# tests and demos (Debian's docker.io 20.10 engine, run as root).
#
# Every daemon has its own socket, data root, exec root, pidfile, key file,
# containerd namespace and log under $LAB. All daemons of one lab run inside
# one private network namespace ($NETNS), so docker_gwbridge and the swarm
# ports (2377/tcp, 7946/tcp+udp on 127.0.0.I+1) never touch the host's
# network, and two labs (different LAB and NETNS) can run at the same time.
# The namespace is entered with `nsenter --net` only: `ip netns exec` remounts
# /sys, hides the cgroup v1 mounts, and dockerd then fails with "Devices
# cgroup isn't mounted". Clients use the unix sockets from the host namespace.
#
#   swarm-lab.sh install            apt-get install docker.io (and iproute2,
#                                   util-linux) if missing; a policy-rc.d guard
#                                   keeps the packaged service from starting
#   swarm-lab.sh up [N]             start N daemons (default 3) and form a swarm:
#                                   n1 inits, n2..nN join as managers
#   swarm-lab.sh down               stop every daemon by PID, unmount, delete the
#                                   netns, rm -rf $LAB (idempotent)
#   swarm-lab.sh host I             print the DOCKER_HOST of daemon I
#   swarm-lab.sh pid I              print the dockerd PID of daemon I
#   swarm-lab.sh leader             print the index of the current leader
#   swarm-lab.sh stop I [SIG]       stop daemon I (default TERM) and wait for it
#   swarm-lab.sh start I            (re)start daemon I; it rejoins by itself
#   swarm-lab.sh signal I SIG       send SIG (e.g. STOP, CONT) to daemon I
#   swarm-lab.sh demote I           demote node I to worker (from another manager)
#   swarm-lab.sh promote I          promote node I to manager
#   swarm-lab.sh wait [N] [T]       wait up to T s (default 60) until every
#                                   manager (N of them; default: as many as the
#                                   swarm lists) answers and is Ready and Leader
#                                   or Reachable, with one leader; fails at once
#                                   if a daemon not stopped with `stop` is down
#   swarm-lab.sh status             node list and each daemon's own view
#
# Environment:
#   LAB=/tmp/infrakit-swarm-lab     state directory (n1, n2, ... below it)
#   NETNS=ik-<hash of LAB>          network namespace; "" = the host's (only
#                                   one lab at a time then). `up` records it in
#                                   $LAB/netns, which later commands default to.
#   STORAGE_DRIVER=                 overlay2 or vfs; default: overlay2, then vfs
#   DOCKER=/usr/bin/docker          the CLI (the engine's own 20.10 CLI if present)
#
# Node I listens on 127.0.0.$((I+1)):2377 inside $NETNS.
set -euo pipefail

LAB=${LAB:-/tmp/infrakit-swarm-lab}
LAB=${LAB%/}
if [[ -z "${NETNS+set}" ]]; then
  # the lab remembers its netns, so `LAB=... down` alone finds it
  NETNS=$(cat "$LAB/netns" 2>/dev/null || printf 'ik-%s' "$(printf '%s' "$LAB" | md5sum | cut -c1-10)")
fi
STORAGE_DRIVER=${STORAGE_DRIVER:-}
if [[ -z "${DOCKER:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
# containerd namespaces must differ between labs if a system containerd is shared
CTRNS=${NETNS:-iklab}

die() { echo "swarm-lab: $*" >&2; exit 1; }
need_index() { [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || die "node index must be a positive integer, got '${1:-}'"; }
ndir() { echo "$LAB/n$1"; }
host() { echo "unix://$(ndir "$1")/docker.sock"; }
ip_of() { echo "127.0.0.$(($1 + 1))"; }
dk() { local i=$1; shift; "$DOCKER" -H "$(host "$i")" "$@"; }
# dkt: the CLI with a time limit. Calls forwarded to a dead leader hang for 20 s.
dkt() { local t=$1 i=$2; shift 2; timeout "$t" "$DOCKER" -H "$(host "$i")" "$@"; }
# ours PID PATTERN: PID is alive and its command line mentions PATTERN, so a
# stale pidfile never makes us signal a recycled PID of somebody else.
# (No pipe into grep -q here: with pipefail, tr's SIGPIPE would fail it.)
ours() {
  local cmdline
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"$2"* ]]
}
# lab_pids: every dockerd or containerd* whose command line names a path
# under $LAB/, i.e. this lab's daemons and nothing else
lab_pids() {
  local f p comm
  for f in /proc/[0-9]*/comm; do
    p=${f#/proc/}; p=${p%/comm}
    comm=$(cat "$f" 2>/dev/null) || continue
    [[ "$comm" == dockerd || "$comm" == containerd* ]] || continue
    if ours "$p" "$LAB/"; then echo "$p"; fi
  done
}
pid_of() { # dockerd PID of node I, or nothing
  local d p
  d=$(ndir "$1")
  for p in "$(cat "$d/pid" 2>/dev/null)" "$(cat "$d/pid.launch" 2>/dev/null)"; do
    if ours "$p" "$d/docker.sock"; then echo "$p"; return 0; fi
  done
}
ctr_pid_of() { # the containerd PID of node I, or nothing
  local d p
  d=$(ndir "$1")
  p=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null || true)
  if ours "$p" "$d/exec/containerd"; then echo "$p"; fi
}
alive() { local p; p=$(pid_of "$1"); [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; }
nodes() {
  local d
  for d in "$LAB"/n*; do
    if [[ -d "$d" && "${d##*/n}" =~ ^[0-9]+$ ]]; then echo "${d##*/n}"; fi
  done | sort -n
}
nsexec() { if [[ -n "$NETNS" ]]; then NSEXEC=(nsenter "--net=/run/netns/$NETNS"); else NSEXEC=(); fi; }
node_id() { dkt 5 "$1" info --format '{{.Swarm.NodeID}}' 2>/dev/null; }

cmd_install() {
  local pkgs=()
  command -v dockerd >/dev/null || pkgs+=(docker.io)
  command -v ip >/dev/null || pkgs+=(iproute2)
  command -v nsenter >/dev/null || pkgs+=(util-linux)
  if ((${#pkgs[@]} == 0)); then dockerd --version; return; fi
  [[ $(id -u) == 0 ]] || die "install must run as root"
  # keep the package's init script from starting a system-wide daemon
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also if apt-get fails
  fi
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null
  dockerd --version
}

ensure_netns() {
  [[ -z "$NETNS" ]] && return 0
  if [[ ! -e "/run/netns/$NETNS" ]]; then
    ip netns add "$NETNS"
    ip -n "$NETNS" link set lo up
  fi
}

wait_ready() { # I TIMEOUT_S: until the daemon answers, or it died
  local i=$1 t=$2 n=0 lp
  lp=$(cat "$(ndir "$i")/pid.launch")
  until dkt 5 "$i" version >/dev/null 2>&1; do
    kill -0 "$lp" 2>/dev/null || { tail -5 "$(ndir "$i")/dockerd.log" >&2; return 1; }
    ((n++ < t * 5)) || return 1
    sleep 0.2
  done
}

start_one() { # I [driver]
  local i=$1 drv=${2:-$STORAGE_DRIVER} d
  d=$(ndir "$i")
  alive "$i" && return 0
  mkdir -p "$d"
  # Its own key.json (the engine ID) instead of the shared /etc/docker/key.json.
  # On 20.10 this exists only as a daemon.json key, not as a flag.
  printf '{ "deprecated-key-path": "%s/key.json" }\n' "$d" >"$d/daemon.json"
  if [[ -z "$drv" ]]; then drv=$(cat "$d/driver" 2>/dev/null || echo overlay2); fi
  rm -f "$d/pid" "$d/stopped"
  # nsenter execs dockerd, so $! is dockerd's own PID. With no system
  # containerd, dockerd supervises its own under exec/containerd.
  nsexec
  "${NSEXEC[@]}" dockerd -H "$(host "$i")" \
    --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/pid" \
    --config-file "$d/daemon.json" --storage-driver "$drv" \
    --containerd-namespace "$CTRNS-n$i" --containerd-plugins-namespace "$CTRNS-n$i-plugins" \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --bridge=none </dev/null >>"$d/dockerd.log" 2>&1 &
  echo $! >"$d/pid.launch"
  if wait_ready "$i" 30; then
    echo "$drv" >"$d/driver"
    return 0
  fi
  if [[ "$drv" == overlay2 && -z "$STORAGE_DRIVER" ]] && grep -qi overlay "$d/dockerd.log"; then
    echo "swarm-lab: n$i failed with overlay2, trying vfs" >&2
    stop_one "$i" KILL
    start_one "$i" vfs
    return
  fi
  die "n$i did not start; see $d/dockerd.log"
}

stop_one() { # I [SIG]: signal dockerd, wait up to 15 s, then KILL
  local i=$1 sig=${2:-TERM} p c n=0
  [[ -d "$(ndir "$i")" ]] && touch "$(ndir "$i")/stopped" # `wait` expects it down
  p=$(pid_of "$i")
  c=$(ctr_pid_of "$i")
  if [[ -n "$p" ]]; then
    kill -s "$sig" "$p"
    kill -s CONT "$p" 2>/dev/null || true # a frozen daemon cannot exit
    while kill -0 "$p" 2>/dev/null && ((n++ < 150)); do sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  fi
  # dockerd ends its containerd on TERM, not on KILL (a restarted dockerd
  # adopts it again; `down` ends it by PID).
  if [[ "$sig" != KILL && -n "$c" ]] && kill -0 "$c" 2>/dev/null; then
    n=0
    while kill -0 "$c" 2>/dev/null && ((n++ < 20)); do sleep 0.1; done
    if kill -0 "$c" 2>/dev/null; then kill -TERM "$c" 2>/dev/null || true; fi
  fi
  return 0
}

is_manager() { [[ "$(dkt 3 "$1" info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" == true ]]; }

is_leader() { # I -> true | false | ? (? = no answer in time)
  local v
  if v=$(dkt 2 "$1" node inspect self \
    --format '{{if .ManagerStatus}}{{.ManagerStatus.Leader}}{{else}}false{{end}}' 2>&1); then
    echo "$v"
  elif [[ "$v" == *"not a swarm manager"* || "$v" == *"not part of a swarm"* ]]; then
    echo false
  else
    echo '?'
  fi
}

leader_of() {
  local i
  for i in $(nodes); do
    alive "$i" || continue
    if [[ "$(is_leader "$i")" == true ]]; then echo "$i"; return 0; fi
  done
  return 1
}

# healthy_view I: node I answers, sees every manager Ready and Leader or
# Reachable with exactly one Leader; prints the number of managers.
healthy_view() {
  local out m
  out=$(dkt 3 "$1" node ls --format '{{.Status}} {{.ManagerStatus}}' 2>/dev/null) || return 1
  m=$(grep -cE ' (Leader|Reachable|Unreachable)$' <<<"$out" || true)
  [[ $(grep -cE '^Ready (Leader|Reachable)$' <<<"$out" || true) == "$m" ]] || return 1
  [[ $(grep -cE '^Ready Leader$' <<<"$out" || true) == 1 ]] || return 1
  echo "$m"
}

wait_healthy() { # N|auto TIMEOUT_S
  local n=$1 t=$2 end i v seen answered
  [[ "$n" == auto || "$n" =~ ^[1-9][0-9]*$ ]] || die "wait: N must be a number or auto"
  [[ "$t" =~ ^[0-9]+$ ]] || die "wait: TIMEOUT must be whole seconds"
  end=$((SECONDS + t))
  while ((SECONDS < end)); do
    # a daemon the lab started and nobody stopped must be running
    for i in $(nodes); do
      if ! alive "$i" && [[ ! -e "$(ndir "$i")/stopped" ]]; then
        echo "swarm-lab: n$i is not running and was not stopped; the end of $(ndir "$i")/dockerd.log:" >&2
        tail -5 "$(ndir "$i")/dockerd.log" >&2 2>/dev/null || true
        die "n$i is down (start it, or stop it first if that is meant)"
      fi
    done
    seen='' answered=0
    # every live manager must answer on its own socket, with the same view
    for i in $(nodes); do
      alive "$i" || continue
      is_manager "$i" || continue
      v=$(healthy_view "$i") || { seen=bad; break; }
      if [[ -n "$seen" && "$seen" != "$v" ]]; then seen=bad; break; fi
      seen=$v answered=$((answered + 1))
    done
    if [[ -n "$seen" && "$seen" != bad && "$answered" == "$seen" ]] && [[ "$n" == auto || "$n" == "$seen" ]]; then
      return 0
    fi
    sleep 0.5
  done
  echo "swarm-lab: managers not healthy (want $n) after ${t}s; each daemon's own view:" >&2
  for i in $(nodes); do
    alive "$i" || { echo "n$i: stopped" >&2; continue; }
    echo "n$i: $(dkt 3 "$i" node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}' 2>&1 | tr '\n' ';')" >&2
  done
  return 1
}

# a live manager other than I, preferring the leader
other_manager() {
  local i=$1 j l
  l=$(leader_of || true)
  if [[ -n "$l" && "$l" != "$i" ]]; then echo "$l"; return 0; fi
  for j in $(nodes); do
    [[ "$j" == "$i" ]] && continue
    alive "$j" || continue
    if is_manager "$j"; then echo "$j"; return 0; fi
  done
  return 1
}

cmd_demote() {
  local i=$1 id via
  id=$(node_id "$i") || die "n$i does not answer"
  [[ -n "$id" ]] || die "n$i is not in a swarm"
  via=$(other_manager "$i") || die "no other manager to demote n$i from"
  dkt 20 "$via" node demote "$id" >/dev/null
}

cmd_promote() {
  local i=$1 id via tries=0
  # Right after a demote the node rotates its certificate to a worker's and
  # may not answer for several seconds: wait for it, as the tests do.
  until id=$(node_id "$i") && [[ -n "$id" ]]; do
    ((tries++ < 60)) || die "n$i does not answer (or is not in a swarm) 60 s after the request to promote it"
    sleep 1
  done
  via=$(other_manager "$i") || die "no manager to promote n$i from"
  dkt 20 "$via" node promote "$id" >/dev/null
}

cmd_up() {
  local n=${1:-3} i tok
  [[ "$n" =~ ^[1-9][0-9]*$ ]] && ((n <= 200)) || die "up: N must be 1..200"
  command -v dockerd >/dev/null || die "dockerd not installed: run '$0 install'"
  command -v nsenter >/dev/null || die "nsenter (util-linux) not found"
  [[ $(id -u) == 0 ]] || die "must run as root"
  mkdir -p "$LAB"
  printf '%s\n' "$NETNS" >"$LAB/netns"
  ensure_netns
  for i in $(seq 1 "$n"); do start_one "$i"; done
  if [[ "$(dkt 10 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]]; then
    dkt 30 1 swarm init --advertise-addr "$(ip_of 1)" --listen-addr "$(ip_of 1):2377" >/dev/null
    # The daemons share one netns, so the ingress network's VXLAN devices
    # collide ("error creating vxlan interface: file exists"). No services
    # run here: drop ingress.
    echo y | dkt 10 1 network rm ingress >/dev/null 2>&1 || true
  fi
  tok=$(dkt 10 1 swarm join-token -q manager)
  for i in $(seq 2 "$n"); do
    [[ "$(dkt 10 "$i" info --format '{{.Swarm.LocalNodeState}}')" == active ]] && continue
    dkt 60 "$i" swarm join --token "$tok" --advertise-addr "$(ip_of "$i")" \
      --listen-addr "$(ip_of "$i"):2377" "$(ip_of 1):2377" >/dev/null
  done
  wait_healthy "$n" 60
  cmd_status
}

cmd_status() {
  local i any=
  for i in $(nodes); do
    if alive "$i"; then
      if [[ -z "$any" ]] && is_manager "$i"; then dkt 3 "$i" node ls 2>&1 || true; any=$i; fi
      printf 'n%s pid=%s host=%s %s leader=%s\n' "$i" "$(pid_of "$i")" "$(host "$i")" \
        "$(dkt 3 "$i" info --format 'state={{.Swarm.LocalNodeState}} manager={{.Swarm.ControlAvailable}}' 2>/dev/null)" \
        "$(is_leader "$i")"
    else
      printf 'n%s stopped\n' "$i"
    fi
  done
}

# wait_gone SECONDS PID...: wait until every PID has exited; 1 if some did not
wait_gone() {
  local t=$1 n=0 p left
  shift
  while :; do
    left=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && left=1; done
    ((left == 0)) && return 0
    ((n++ < t * 10)) || return 1
    sleep 0.1
  done
}

cmd_down() {
  local i p m pids=() ctrs=()
  # all daemons at once: TERM (and CONT, in case one is frozen), then KILL
  for i in $(nodes); do
    p=$(pid_of "$i")
    if [[ -n "$p" ]]; then pids+=("$p"); fi
    p=$(ctr_pid_of "$i")
    if [[ -n "$p" ]]; then ctrs+=("$p"); fi
  done
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    kill -CONT "${pids[@]}" 2>/dev/null || true
    wait_gone 5 "${pids[@]}" || kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 5 "${pids[@]}" || true
  fi
  if ((${#ctrs[@]})); then
    wait_gone 1 "${ctrs[@]}" || kill -TERM "${ctrs[@]}" 2>/dev/null || true
    wait_gone 5 "${ctrs[@]}" || kill -KILL "${ctrs[@]}" 2>/dev/null || true
    wait_gone 5 "${ctrs[@]}" || true
  fi
  # anything of this lab still running (e.g. a containerd orphaned by a
  # KILLed dockerd whose pidfile is gone): by PID, TERM then KILL
  mapfile -t pids < <(lab_pids)
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait_gone 5 "${pids[@]}" || kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 5 "${pids[@]}" || true
  fi
  mapfile -t pids < <(lab_pids)
  ((${#pids[@]} == 0)) || die "processes of $LAB still running (${pids[*]}); not removing it"
  if [[ -n "$NETNS" && -e "/run/netns/$NETNS" ]]; then ip netns del "$NETNS"; fi
  # dockerd bind-mounts its data root onto itself and netns files under
  # exec/netns; a killed daemon leaves them. Unmount ours, deepest first.
  for m in $(awk -v lab="$LAB/" 'index($2, lab) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if awk -v lab="$LAB/" 'index($2, lab) == 1' /proc/self/mounts | grep -q .; then
    die "mounts left under $LAB; not removing it"
  fi
  rm -rf "$LAB"
  # leftovers outside $LAB, removed only when empty (other labs may use them):
  # dockerd's fixed plugin dir and the /run/netns bind mount of `ip netns add`
  rmdir /run/docker/plugins /run/docker 2>/dev/null || true
  if [[ -d /run/netns && -z "$(ls -A /run/netns)" ]]; then
    umount /run/netns 2>/dev/null || true
    rmdir /run/netns 2>/dev/null || true
  fi
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2; }

case "${1:-}" in
install) cmd_install ;;
up) cmd_up "${2:-3}" ;;
down) cmd_down ;;
host) need_index "${2:-}"; host "$2" ;;
pid) need_index "${2:-}"; pid_of "$2" ;;
leader) leader_of || die "no leader found" ;;
stop) need_index "${2:-}"; stop_one "$2" "${3:-TERM}" ;;
start) need_index "${2:-}"; ensure_netns; start_one "$2" ;;
signal)
  need_index "${2:-}"; [[ -n "${3:-}" ]] || die "signal: SIG missing"
  p=$(pid_of "$2"); [[ -n "$p" ]] || die "n$2 has no pid"
  kill -s "$3" "$p"
  ;;
demote) need_index "${2:-}"; cmd_demote "$2" ;;
promote) need_index "${2:-}"; cmd_promote "$2" ;;
wait) wait_healthy "${2:-auto}" "${3:-60}" ;;
status) cmd_status ;;
*) usage ;;
esac
