package invariant

import (
	"fmt"
	"time"
)

// Kind is what a request asked for or a downstream did.
type Kind string

// The kinds.
const (
	Commit  Kind = "commit"
	Free    Kind = "free"
	Destroy Kind = "destroy"
)

// Outcome is how a client's request ended, as the client can tell.
type Outcome int

// The outcomes.
const (
	// Ambiguous: an error that does not say whether the store changed
	// (a timeout, a store error, a connection cut): either may be true.
	Ambiguous Outcome = iota
	// Acked: the request answered OK, or answered an error that says the
	// store holds the change ("is stored", "removed from the store").
	Acked
	// Refused: the request was refused before anything was written
	// (not the leader, an invalid spec).
	Refused
	// Pending: no answer yet. A pending commit counts as a request to
	// commit (the group may run again); at the end nothing is pending.
	Pending
)

func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Refused:
		return "refused"
	case Pending:
		return "pending"
	}
	return "ambiguous"
}

// Request is one client call that changes the store. Calls for one group
// never overlap: a client waits for the answer before its next call for the
// same group.
type Request struct {
	Group   string
	Kind    Kind
	Version string // the spec's version mark, for a commit
	Via     string // the manager the client called
	Start   time.Time
	End     time.Time
	Outcome Outcome
}

func (r Request) String() string {
	return fmt.Sprintf("%s %s %s via %s [%s]", r.Kind, r.Group, r.Version, r.Via, r.Outcome)
}

// Effect is one downstream change that completed: a commit, free or
// destroy that the manager's downstream carried out, stamped when the
// downstream received the call.
type Effect struct {
	Manager string
	Group   string
	Kind    Kind
	Version string // for a commit
	At      time.Time
}

func (e Effect) String() string {
	return fmt.Sprintf("%s: %s %s %s at %s", e.Manager, e.Kind, e.Group, e.Version, e.At.Format("15:04:05.000000"))
}

// Hold is a span during which the leadership source answered "leader" to
// Manager (the simulator: one span per answer; the chaos run: the spans in
// which the leader file named it). To is the end; zero means it still holds.
type Hold struct {
	Manager  string
	From, To time.Time
}

// Freeze is a span during which a manager's process was stopped (SIGSTOP),
// or (the simulator) a jump of the fake clock, which is a freeze of every
// manager's goroutines that had not run yet: the frozen case of the lease
// rules. Manager "" is every manager.
type Freeze struct {
	Manager  string
	From, To time.Time
}

// Final is the state once faults stopped and the system was given its bound
// to converge.
type Final struct {
	// Stored maps each stored group to its version mark.
	Stored map[string]string
	// Leader is the manager that leads at the end ("" if none).
	Leader string
	// Running maps each manager to what its downstream runs (group to
	// version mark).
	Running map[string]map[string]string
	// Tracked maps each manager to how many groups it keeps state for
	// (Manager.Status's groups); nil when not known.
	Tracked map[string]int
}

// History is everything one run recorded.
type History struct {
	Requests []Request
	Effects  []Effect
	Holds    []Hold
	Freezes  []Freeze
	// Final is nil while the run goes on (the step checks), set at the end.
	Final *Final
}

// Rules are the parameters of the checks.
type Rules struct {
	// Lease is the managers' lease duration: a commit or destroy must be
	// made on a confirmation younger than this.
	Lease time.Duration
	// Slack widens the lease window by the observer's imprecision (the chaos
	// run reads holds from outside, and clocks of separate processes); 0 in
	// the simulator.
	Slack time.Duration
	// Frozen is how long after a freeze ends a change of the frozen manager
	// counts as the documented frozen case (gate passed before the freeze,
	// call made on waking, undone at once when it steps down) rather than a
	// violation. 0 allows only changes stamped within the freeze.
	Frozen time.Duration
}

// Violation is one broken rule.
type Violation struct {
	Rule   string
	Detail string
}

func (v Violation) String() string { return v.Rule + ": " + v.Detail }
