// Command chaos is the chaos run over real processes (make chaos): three
// infrakit-manager processes, each with its own infrakit-group-sim
// downstream logging its changes (--events), in os mode (a shared leader
// file and store directory) and in etcd mode (a real 3-member cluster from
// hack/etcd-lab.sh, each manager reaching it through its own freezable
// proxy, sources/etcd/etcdtest). A seeded schedule injects leader flips,
// kill -9 and restarts, SIGSTOP/SIGCONT, downstream restarts, store faults
// (os: the store's lock held and global.config made unreadable; etcd:
// member kills) and, for etcd, connection stalls through the proxies, while
// clients commit and destroy groups through whichever manager leads.
//
// When the schedule ends every fault is undone and the run waits for the
// managers to converge; then a checker reads the simulators' event logs,
// the client history and the final state, and applies the invariants of
// internal/invariant (the same file the simulator applies). It prints one
// line per mode:
//
//	chaos: mode=os seed=1 duration=45s operations=… faults=… (kinds…) violations: acked-write-kept=0 …
//
// and exits 1 on any violation, listing them with the schedule.
//
// Leadership holds are what the run itself decided: in os mode the driver
// writes the leader file and keeps the lease rule (it names nobody for a
// lease before naming a new leader); in etcd mode the election decides and
// the driver learns the holder by asking every manager (IsLeader) every
// 50ms, so the holds are a sampled view, judged with a slack of one
// sampling period plus the lease.
package main
