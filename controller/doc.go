// Package controller is the manager's brain: a level-triggered reconciler
// that makes the downstream group plugin run exactly the stored groups while
// this replica leads and nothing while it does not, the Group API front that
// users talk to, and the embeddable daemon (Options, New, Start, Stop,
// RunOnce) that wires both to a socket, a Store and a Leadership source.
//
// Flow: the front and the leadership callback never call the downstream to
// converge; they change desired state (the store, the leader flag) and
// enqueue group IDs. Workers take IDs from the queue, compare desired
// (stored spec, if leader) with observed (the downstream's InspectGroups) and
// commit, free or do nothing. Errors requeue with per-key backoff; a periodic
// resync re-reads both sides and enqueues every ID, so a restarted downstream
// is re-committed and anything missed is caught.
//
// Limits: leadership is detected, not elected, and nothing fences a deposed
// leader. On losing leadership the controller refuses writes at once, cancels
// in-flight downstream calls and frees whatever its downstream reports, but a
// commit already delivered to the plugin before cancellation is only undone
// at the next resync. DescribeGroup is answered by this replica's downstream,
// so a follower answers "not being watched"; InspectGroups answers the shared
// store on every replica.
package controller
