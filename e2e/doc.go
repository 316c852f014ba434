// Package e2e holds the end-to-end tests: they build the real binaries of
// cmd/ (once per test run; the manager and the simulator with -race, whose
// reports fail the run), start them as real processes on real unix sockets
// in temporary plugin directories, and drive them with the infrakit CLI or
// the plugin client, asserting what a user would see: output, exit codes,
// sockets and files.
//
// Files: binaries_test.go (build once, processes, sockets, CLI helpers),
// cli_test.go (every infrakit subcommand against the simulator),
// os_*_test.go (two os-mode nodes sharing a leader file and a store),
// fault_*_test.go (kill -9 durability, store and downstream faults, 1,000
// leader flips, leader-file edge cases, duplicate names), hostile_*_test.go
// (hostile specs, a batch poisoner, 300 slow and 50 non-reading clients,
// bad names and flags, a planted lock symlink), swarm_*_test.go
// (a real 3-manager Docker Swarm: demotion, SIGKILL failover, a hung
// follower, --once, label conflicts and corruption), etcd_test.go (a real
// 3-member etcd cluster: commit/ls/describe/free, kill -9 and SIGSTOP of the
// leading manager, kill -9 of the etcd Raft leader member).
//
// Limits: the tests need the Go toolchain (they run `go build`) and are
// Linux only. The etcd tests need etcd and etcdctl, the swarm tests root
// and dockerd: without them they skip
// and say why, and with CI=true they fail instead. Everything is skipped
// under -short. They never touch the user's plugin directory.
package e2e
