#!/usr/bin/env bash
# etcd-lab.sh: a throw-away etcd cluster of N members on loopback ports, for
# tests and demos (Debian's etcd-server/etcd-client packages).
#
# Every member has its own data dir, log and pidfile under $LAB/nI. Ports are
# picked free at `up` (two per member, client and peer, on 127.0.0.1) below
# the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
# default), so no outgoing connection can take a member's port while it is
# down, and recorded in $LAB/nI/ports, so several labs can run at once. Only
# processes whose command line names this lab's directory are ever signalled.
# A member stopped with `kill` is marked stopped ($LAB/nI/stopped) until
# `start`; every other member is one the lab started and must be running.
#
#   etcd-lab.sh install         apt-get install etcd-server etcd-client if
#                               missing (a policy-rc.d guard keeps the
#                               packaged service from starting)
#   etcd-lab.sh up [N]          start N members (default 3), wait for health
#   etcd-lab.sh down            stop this lab's members, rm -rf $LAB (idempotent)
#   etcd-lab.sh endpoints       print the client URLs, comma-separated
#   etcd-lab.sh endpoint I      print member I's client URL
#   etcd-lab.sh pid I           print member I's PID
#   etcd-lab.sh kill I          SIGKILL member I, wait for it to go and for
#                               its ports to be free; mark it stopped
#   etcd-lab.sh pause I         SIGSTOP member I
#   etcd-lab.sh resume I        SIGCONT member I
#   etcd-lab.sh start I         (re)start member I with its data dir, once
#                               its ports are free
#   etcd-lab.sh wipe I          replace member I by an empty one: member
#                               remove, kill, delete its data dir, member add,
#                               start once its ports are free; it catches
#                               up from the others
#   etcd-lab.sh leader          print the index of the Raft leader member
#   etcd-lab.sh wait [T]        wait up to T s (default 30) until every member
#                               not stopped with `kill` is healthy; fails at
#                               once, with its log, if one is not running
#   etcd-lab.sh status          etcdctl endpoint status of every member
#
# Environment:
#   LAB=/tmp/infrakit-etcd-lab  state directory
#   ETCD=etcd ETCDCTL=etcdctl   the binaries
set -euo pipefail

LAB=${LAB:-/tmp/infrakit-etcd-lab}
LAB=${LAB%/}
ETCD=${ETCD:-etcd}
ETCDCTL=${ETCDCTL:-etcdctl}
export ETCDCTL_API=3

die() { echo "etcd-lab: $*" >&2; exit 1; }
need_index() { [[ "${1:-}" =~ ^[1-9][0-9]*$ && -d "$LAB/n$1" ]] || die "no member '${1:-}' in $LAB"; }
mdir() { echo "$LAB/n$1"; }
cport() { cut -d' ' -f1 <"$(mdir "$1")/ports"; }
pport() { cut -d' ' -f2 <"$(mdir "$1")/ports"; }
curl_of() { echo "http://127.0.0.1:$(cport "$1")"; }
members() {
  local d
  for d in "$LAB"/n*; do
    if [[ -d "$d" && "${d##*/n}" =~ ^[0-9]+$ ]]; then echo "${d##*/n}"; fi
  done | sort -n
}
# ours PID: alive and its command line names this lab, so a stale pidfile
# never makes us signal a recycled PID.
ours() {
  local cmdline
  [[ -n "$1" && -r "/proc/$1/cmdline" ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"--data-dir $LAB/"* ]]
}
pid_of() {
  local p
  p=$(cat "$(mdir "$1")/pid" 2>/dev/null || true)
  if ours "$p"; then echo "$p"; fi
}
# port_free P: no live socket on this host has local port P: none listens on
# it and no connection uses it (an outgoing one would make etcd's bind fail).
# Sockets a killed member left closing (FIN-WAIT, TIME-WAIT) are no obstacle:
# they carry SO_REUSEADDR like etcd's listener.
port_free() {
  if command -v ss >/dev/null; then
    [[ -z "$(ss -Htan state listening state established state syn-sent state syn-recv state close-wait "sport = :$1" 2>/dev/null)" ]]
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
# The ports a lab hands out: from 10000 up to just below the ephemeral range.
PORT_LO=10000
PORT_HI=$(( $(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768) - 1 ))
((PORT_HI > PORT_LO + 1000)) || PORT_HI=32767
pick_port() { # a free port not yet handed out by this lab
  local p
  for _ in $(seq 200); do
    p=$((PORT_LO + (RANDOM * 32768 + RANDOM) % (PORT_HI - PORT_LO)))
    if port_free "$p" && ! grep -qw "$p" "$LAB"/n*/ports 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}
cluster() {
  local i out=""
  for i in $(members); do out+="${out:+,}n$i=http://127.0.0.1:$(pport "$i")"; done
  echo "$out"
}

cmd_install() {
  if command -v "$ETCD" >/dev/null && command -v "$ETCDCTL" >/dev/null; then "$ETCD" --version | head -1; return; fi
  [[ $(id -u) == 0 ]] || die "install must run as root"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client >/dev/null
  # the package may start a system member on 2379; this lab never uses it
  "$ETCD" --version | head -1
}

# ports_free I: wait up to 10 s until member I's ports are free, or fail
# naming the port and what holds it.
ports_free() {
  local p
  for p in $(cport "$1") $(pport "$1"); do
    for _ in $(seq 100); do port_free "$p" && continue 2; sleep 0.1; done
    die "member $1: port $p still in use after 10 s: $(ss -Htanp state listening state established state syn-sent state syn-recv state close-wait "sport = :$p" 2>/dev/null | head -3 | tr '\n' ' ')"
  done
}

launch() { # launch I STATE
  local i=$1 d
  d=$(mdir "$i")
  ports_free "$i"
  rm -f "$d/stopped"
  setsid "$ETCD" --name "n$i" --data-dir "$d/data" \
    --listen-client-urls "$(curl_of "$i")" --advertise-client-urls "$(curl_of "$i")" \
    --listen-peer-urls "http://127.0.0.1:$(pport "$i")" \
    --initial-advertise-peer-urls "http://127.0.0.1:$(pport "$i")" \
    --initial-cluster "$(cluster)" --initial-cluster-state "$2" \
    --initial-cluster-token "$(basename "$LAB")" \
    --heartbeat-interval 100 --election-timeout 1000 \
    --logger zap --log-outputs "$d/etcd.log" </dev/null >>"$d/etcd.out" 2>&1 &
  echo $! >"$d/pid"
}

cmd_up() {
  local n=${1:-3} i
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "member count must be a positive integer"
  [[ -z "$(members)" ]] || die "$LAB already has members; run down first"
  command -v "$ETCD" >/dev/null || die "$ETCD not found (etcd-lab.sh install)"
  mkdir -p "$LAB"
  for i in $(seq "$n"); do
    mkdir -p "$(mdir "$i")"
    echo "$(pick_port) $(pick_port)" >"$(mdir "$i")/ports"
  done
  for i in $(seq "$n"); do launch "$i" new; done
  cmd_wait 30
  cmd_endpoints
}

cmd_down() {
  local i p
  [[ -d "$LAB" ]] || return 0
  for i in $(members); do
    p=$(pid_of "$i")
    if [[ -n "$p" ]]; then kill -CONT "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; fi
  done
  for i in $(members); do
    for _ in $(seq 100); do [[ -z "$(pid_of "$i")" ]] && break; sleep 0.05; done
  done
  rm -rf "$LAB"
}

cmd_endpoints() {
  local i out=""
  for i in $(members); do out+="${out:+,}$(curl_of "$i")"; done
  echo "$out"
}

cmd_kill() {
  need_index "$1"
  local p
  p=$(pid_of "$1")
  touch "$(mdir "$1")/stopped"
  [[ -n "$p" ]] || return 0
  kill -CONT "$p" 2>/dev/null || true
  kill -KILL "$p"
  for _ in $(seq 100); do [[ -z "$(pid_of "$1")" ]] && break; sleep 0.05; done
  [[ -z "$(pid_of "$1")" ]] || die "member $1 (pid $p) did not exit"
  ports_free "$1"
}

cmd_signal() { # signal I SIG
  need_index "$1"
  local p
  p=$(pid_of "$1")
  [[ -n "$p" ]] || die "member $1 is not running"
  kill "-$2" "$p"
}

cmd_start() {
  need_index "$1"
  [[ -z "$(pid_of "$1")" ]] || die "member $1 is running"
  launch "$1" existing
}

retry() { # retry CMD...: up to 20 s, quietly unless it never succeeds
  local out
  for _ in $(seq 40); do
    if out=$("$@" 2>&1); then return 0; fi
    sleep 0.5
  done
  die "$* failed: $out"
}

cmd_wipe() {
  need_index "$1"
  local i=$1 other="" j id
  for j in $(members); do
    if [[ $j != "$i" && -n "$(pid_of "$j")" ]]; then other=$j; break; fi
  done
  [[ -n "$other" ]] || die "no other running member to replace member $i from"
  # member list: ID, status, name, peer URLs, client URLs, is learner
  id=$("$ETCDCTL" --endpoints "$(curl_of "$other")" --command-timeout 5s member list |
    awk -F', ' -v n="n$i" '$3 == n || $4 == "http://127.0.0.1:'"$(pport "$i")"'" {print $1; exit}')
  [[ -n "$id" ]] || die "member $i not in the member list"
  # remove first: etcd refuses to remove a member it has just lost, and any
  # reconfiguration while a member joined less than 5 s ago ("unhealthy
  # cluster"), hence the retries
  retry "$ETCDCTL" --endpoints "$(curl_of "$other")" --command-timeout 5s member remove "$id"
  cmd_kill "$i"
  rm -rf "$(mdir "$i")/data"
  retry "$ETCDCTL" --endpoints "$(curl_of "$other")" --command-timeout 5s member add "n$i" \
    --peer-urls "http://127.0.0.1:$(pport "$i")"
  launch "$i" existing
}

healthy() { "$ETCDCTL" --endpoints "$(curl_of "$1")" --dial-timeout 1s --command-timeout 2s endpoint health >/dev/null 2>&1; }

# gone I: member I's launched process has exited. (A process just launched
# may not show etcd's command line yet: it is still the forked shell.)
gone() {
  local p
  p=$(cat "$(mdir "$1")/pid" 2>/dev/null || true)
  [[ -z "$p" ]] || ! kill -0 "$p" 2>/dev/null
}

# down_member I: member I was started (not stopped with kill) and is not
# running: fail with its last log lines.
down_member() {
  echo "etcd-lab: member $1 ($(curl_of "$1")) is not running; the end of $(mdir "$1")/etcd.out and etcd.log:" >&2
  tail -5 "$(mdir "$1")/etcd.out" >&2 2>/dev/null || true
  tail -5 "$(mdir "$1")/etcd.log" >&2 2>/dev/null || true
  die "member $1 is down (start it, or kill it first if that is meant)"
}

cmd_wait() {
  local t=${1:-30} i ok
  local until=$((SECONDS + t))
  while ((SECONDS < until)); do
    ok=1
    for i in $(members); do
      [[ -e "$(mdir "$i")/stopped" ]] && continue
      gone "$i" && down_member "$i"
      healthy "$i" || { ok=0; break; }
    done
    ((ok)) && return 0
    sleep 0.2
  done
  for i in $(members); do
    echo "etcd-lab: member $i ($(curl_of "$i")):" >&2
    tail -5 "$(mdir "$i")/etcd.log" >&2 2>/dev/null || true
  done
  die "members not healthy after ${t}s: $(for i in $(members); do [[ -e "$(mdir "$i")/stopped" ]] || healthy "$i" || printf 'n%s ' "$i"; done)"
}

cmd_leader() {
  local i
  for i in $(members); do
    [[ -n "$(pid_of "$i")" ]] || continue
    # fields: endpoint, ID, version, DB size, is leader, ...
    if [[ "$("$ETCDCTL" --endpoints "$(curl_of "$i")" --dial-timeout 1s --command-timeout 2s endpoint status 2>/dev/null |
      cut -d, -f5 | tr -d ' ')" == true ]]; then
      echo "$i"; return 0
    fi
  done
  die "no leader found"
}

cmd_status() {
  "$ETCDCTL" --endpoints "$(cmd_endpoints)" --dial-timeout 1s --command-timeout 2s endpoint status -w table || true
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up "${2:-3}" ;;
  down) cmd_down ;;
  endpoints) cmd_endpoints ;;
  endpoint) need_index "${2:-}"; curl_of "$2" ;;
  pid) need_index "${2:-}"; pid_of "$2" ;;
  kill) cmd_kill "${2:-}" ;;
  pause) cmd_signal "${2:-}" STOP ;;
  resume) cmd_signal "${2:-}" CONT ;;
  start) cmd_start "${2:-}" ;;
  wipe) cmd_wipe "${2:-}"; cmd_wait 30 ;;
  leader) cmd_leader ;;
  wait) cmd_wait "${2:-30}" ;;
  status) cmd_status ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
