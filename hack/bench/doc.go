// Command bench is the benchmark harness behind `make bench`: it starts the
// real binaries (infrakit-manager, infrakit-group-sim) from a build
// directory as separate processes on unix sockets in short temporary
// directories, measures leader-file flips, two-manager handovers, takeovers
// of 1 to 10,000 stored groups, commit latency and throughput, resident
// memory, when a Docker engine can be started a swarm-mode demote, and,
// when etcd is installed, etcd mode on a 3-member hack/etcd-lab.sh cluster
// (kill -9 and cut-off failover, loss of the etcd Raft leader, commits with
// 10 and 10,000 groups stored, a 10,000-group takeover); it prints one
// table and writes docs/benchmarks.md with the figures, the machine, the
// command, the original InfraKit's figures and a verdict for each goal.
//
//	go run ./hack/bench [--build build] [--out docs/benchmarks.md] [--swarm auto|off]
//	    [--etcd auto|off] [--etcd-rounds 5] [--profile auto|always|off] [--cpuprofile-dir DIR]
//	    [--sections commits,flips,handovers,takeovers,swarm,etcd] [--takeovers 1,100,1000,10000]
//	    [--flips 100] [--handovers 100] [--keep]
//
// When a goal is missed (--profile auto) it also runs the controller
// in-process under a CPU profile, times the store and downstream calls of a
// commit, and writes the profiles to <build>/bench-profiles.
//
// Why a program and not a test behind a build tag: `go build ./...` and
// `go vet ./...` (make lint) compile and vet it on every run, so it cannot
// rot unnoticed; its pure parts (statistics, event analysis, the report)
// have ordinary fast unit tests that `go test ./...` runs, while the
// measurements, which start processes and take minutes, run only when asked.
//
// Timing comes from the simulator's event log (each completed commit, free
// and destroy stamped with the wall clock in the sim process) compared with
// the wall clock read just before the harness acted (a rename of the leader
// file, a swarm demote), so the harness's own polling adds nothing to a
// figure.
//
// Limits: Linux only (/proc for memory, load and CPU model). Figures depend
// on the machine and on whatever else runs on it; the report records the
// load average. Goals are checked, never asserted: a missed goal is reported,
// not a failure. The exit code is non-zero only when a measurement could not
// be taken at all.
package main
