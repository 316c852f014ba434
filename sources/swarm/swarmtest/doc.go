// Package swarmtest runs throw-away Docker Swarm labs from Go tests: real
// dockerd processes started by hack/swarm-lab.sh, each lab in its own state
// directory and network namespace, so labs of different test binaries can
// run at the same time.
//
// RequireEngine holds the one skip policy: without root, dockerd, nsenter or
// ip a test is skipped, except under CI=true, where it fails (CI must never
// skip silently). Limits: Linux only, root only; a test binary killed hard
// (SIGKILL) leaves its lab behind: its directory is $TMPDIR/iksl*, and
// `LAB=<dir> hack/swarm-lab.sh down` removes it with its daemons and netns.
package swarmtest
