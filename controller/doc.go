// Package controller is the manager's brain: a level-triggered reconciler
// that makes the downstream group plugin run exactly the stored groups while
// this replica leads and nothing while it does not, the Group API front that
// users talk to, and the embeddable daemon (Options, New, Start, Stop,
// RunOnce) that wires both to a socket, a Store and a Leadership source.
//
// Rooms and the one-way flow:
//
//   - lease (lease.go, lease_run.go) turns the source's three answers
//     (leader, not leader, unknown) into a role with a lease and terms.
//     Unknown keeps the role for at most Options.LeaseDuration. confirm is
//     the gate in front of every downstream change and store write: a
//     confirmation older than two renewals is re-checked first, so a frozen
//     process never acts on stale leadership.
//   - handover (handover.go, handover_status.go) keeps a new term's gate
//     closed for downstream changes (Options.Handover fenced) until every
//     earlier term's holder has released in the mode's handover record
//     (os: the store directory's handover.json) or the lease bound has
//     passed since this replica first saw itself lead; on a loss it records
//     the release once the downstream runs nothing.
//   - front (front.go) is the Group API. It validates, stores durably
//     (writer, batch.go: group commit), records the user's intent for the
//     group (intents.go), enqueues it and waits for the result. It never
//     calls Commit, Free or Destroy downstream.
//   - reconciler (loop.go, reconcile.go) is the only actor on the
//     downstream. Desired state has one owner (desired.go: written by syncs
//     and saves under storeMu); observed state has one writer (observed.go:
//     syncs install InspectGroups answers, workers record their own calls,
//     sequence numbers keep a late answer from undoing a newer change).
//     plan is a pure function of role, desired, observed, last-applied and
//     intent; execute goes through the lease gate under the term's context.
//
// Health and misconfiguration (health.go, claims.go, bounded_write.go): the
// bounded store keeps the last write's failure (no space, read-only, EBUSY,
// a store that vanished or hung; not a conflict), and while it fails the
// health loop asks the store, under storeMu, to rewrite its config unchanged
// (sources.FileStore.CheckWrite) every resync interval. Claims (an flock'd
// lock file naming its holder: <plugin-dir>/<proxy-for-group>.lock, and in
// os mode <store-dir>/.manager-<name>.lock) are taken at start: one held by
// another process refuses the start (ErrMisconfigured); they are verified
// every resync interval, and one lost is logged at error level. Status and
// /readyz report all of it, the store vanished (sources.ErrStoreGone) and a
// downstream not found; /readyz reads the store through the bounded store.
//
// Lock order (the only nesting): reconciler.storeMu before desired.mu;
// lease.notify before lease.mu. Every other mutex is a leaf, and none is held
// across a downstream call, a store call or a leadership check. Per-group
// serialisation comes from the work queue: a key is never processed by two
// workers at once.
//
// Limits: os and swarm leadership is detected, not elected, and their
// writes are not fenced: the gate narrows the window of a stale leader to
// the time between its last check and its call (microseconds), but a process
// frozen exactly there acts once on waking and is undone at once when it
// steps down. The fenced handover bounds the old leader by its lease as
// measured on the new leader's monotonic clock: it assumes the two clocks
// run at about the same rate (the margin covers the rest) and that the
// source does not tell the old leader "leader" after it named the new one. The last-applied record is in memory: after a restart a
// normalising plugin costs one commit per group. DescribeGroup is answered by
// this replica's downstream, so a follower answers "not being watched";
// InspectGroups answers the shared store on every replica, from memory while
// the store is unchanged.
package controller
