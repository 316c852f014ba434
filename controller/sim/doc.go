// Package sim is a seeded fault-schedule simulator of the controller: the
// real controller code (controller.New, Start, Stop, the Group API it
// serves) driven by an injected fake clock, with two or three managers
// sharing one in-memory store with faults, each with a leadership source
// answering from one authority (leader, not leader, unknown, hang) and its
// own downstream (plugin/groupsim behind a fault layer that fails, is slow,
// answers late, lists phantoms; groupsim normalises specs).
//
// A seed fixes the run: how many managers, the schedule of client calls
// (commit, destroy, free, describe), resyncs, leadership changes, restarts
// and faults, and how far the clock moves between steps. After every step
// the invariants of package invariant are checked on the history so far;
// once faults stop, the run advances the clock until the leader's
// downstream runs exactly the stored groups (or a bound passes) and checks
// them all.
//
// Reproducibility: the schedule is a pure function of the seed, and every
// timer of the controller runs on the fake clock. The interleaving of the
// controller's goroutines with the schedule is not: the driver gives them
// a moment of real time after each step, so a replay of a failing seed
// runs the same steps but may interleave them differently. A failure found
// by a race (the destroy/resync race, for one) shows up on the same seed in
// some replays, not all: make sim SEED=N replays a seed 16 times, 8 at once,
// and says in how many it failed. A clock jump is a freeze of every
// goroutine that had not run: a change whose gate passed before it (the
// lease still held a moment of real time earlier) is the documented frozen
// case, counted apart from the violations.
//
// The authority keeps the lease rule the controller relies on: it names a
// new holder only once every other manager's last "leader" answer is older
// than the lease (etcd's election does this by TTL; os mode relies on the
// operator). Under it no two managers may change their downstreams at
// once, which the one-actor invariant checks.
package sim
