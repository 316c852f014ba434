// Package front is the Group API and the Manager API a manager serves: it
// answers followers "not-a-leader", validates a spec (locally, then with a
// pretend commit straight to the downstream), hands every change to the
// reconciler through the one interface it declares, Reconciler (Submit),
// and words the reconciler's outcome for the user. InspectGroups and
// Status are reads: the reconciler's stored specs and its Snapshot, the
// lease's View and the leader's location.
//
// Its job ends there. It never calls Commit (other than pretend), Free or
// Destroy downstream and never touches the store: the reconciler is the
// only actor. It imports the lease (for View) and package submit (the
// types it shares with the reconciler), never the reconciler; the daemon
// (package controller) wires the parts together.
//
// Limits: DescribeGroup is answered by this replica's downstream, so a
// follower answers "not being watched". A commit's answer waits at most the
// reconciler's apply wait; after that the user is told the change is
// stored and still being applied (submit.ErrNotApplied).
package front
