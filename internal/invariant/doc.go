// Package invariant holds the safety and liveness rules the manager must
// keep, written once (invariant.go) and applied to a History recorded from
// outside: by the seeded simulator of the controller (controller/sim) and by
// the chaos run over real processes (hack/chaos).
//
// A History is what an observer can see: the clients' requests with their
// answers, every change each manager's downstream made (its event log),
// who held leadership when, and the final state once faults stopped. Check
// returns the violations, named after the rule they break; Counts tallies
// them per rule so that a run can print "violations per invariant: 0".
package invariant
