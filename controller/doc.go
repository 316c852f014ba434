// Package controller is the manager's embeddable daemon (Options, New,
// Start, Stop, RunOnce): it wires the lease, the reconciler (a
// level-triggered loop that makes the downstream group plugin run exactly
// the stored groups while this replica leads and nothing while it does
// not) and the Group API front that users talk to, to a socket, a Store and
// a Leadership source, and keeps the claims, the leader's location and the
// health checks.
//
// Rooms and the one-way flow. Each package has one job; every arrow is an
// import and they all point one way (down the page; nothing below imports
// anything above it):
//
//	controller  the daemon: Options, New, Start, Stop, RunOnce; wiring,
//	  │         claims, leader location, health checks
//	  ├──> front       Group and Manager API        ──> submit, lease
//	  ├──> reconciler  the only actor downstream    ──> submit, lease
//	  ├──> submit      Change, Receipt, Snapshot: what crosses front → reconciler
//	  └──> lease       role, terms, the gate
//
// The front reaches the reconciler only through front.Reconciler, an
// interface it declares (Submit, Stored, StoredEncoded, Snapshot) and the
// daemon injects: front and reconciler do not import each other. Pretend
// commits and DescribeGroup go straight to the downstream
// (front.Downstream): reads and validation, never a change. The daemon
// runs the reconciler (Run, ShutDown, Settle, RunOnce) and reads its health
// (ReadStore, WriteFailure, DownstreamProblem); the claims' outcomes are
// its own (claim_health.go), added to Status through front.Health.
//
//   - lease (package controller/lease) turns the source's three answers
//     (leader, not leader, unknown) into a role with a lease and terms.
//     Unknown keeps the role for at most Options.LeaseDuration. Confirm is
//     the gate in front of every downstream change and store write: a
//     confirmation from a check that began more than one renewal interval
//     ago is re-checked first, so a frozen process never acts on stale
//     leadership. For a downstream change the same test is made again as
//     its request is written (SendGate, plugin.WithSendGate: at each
//     read of the request body, just before its bytes are written), so a
//     worker frozen after confirm looks again on waking before its request
//     is complete.
//   - handover (reconciler/handover.go) keeps a new term's gate
//     closed for downstream changes (Options.Handover fenced) until every
//     earlier term's holder has released in the mode's handover record
//     (os: the store directory's handover.json) or the lease bound has
//     passed since this replica first saw itself lead; on a loss it records
//     the release once the downstream runs nothing.
//   - front (package controller/front) is the Group API. It validates and
//     hands every write to the reconciler through one call, Submit
//     (reconciler/submit.go, snapshot.go): the
//     store change and the user's intent are recorded together (the intent
//     under storeMu, before any sync can read the store again), then the
//     group is enqueued and the answer awaited. The front never calls
//     Commit, Free or Destroy downstream. Status reads the reconciler's
//     Snapshot, the lease's View and the locator.
//   - destroy is a durable intent, a finalizer: submit moves the group's
//     entry from Groups to sources.Config.Destroying in one save. Planning
//     never frees a group that is pending there; the leader, whichever it is,
//     destroys it (reconciler/destroy.go: the last stored spec is committed first when
//     the downstream does not watch the group) and then removes the record
//     through the writer. A group this leader destroyed that a late commit
//     brings back is destroyed again (observed.gone, this term only). A
//     follower that steps down frees its own downstream's groups, pending
//     ones included: destroying is the leader's job.
//   - reconciler (package controller/reconciler) is the only actor on the
//     downstream. Desired state has one owner (desired.go: written by syncs
//     and saves under storeMu, fresh only for the term in which its read
//     began); observed state has one writer (observed.go:
//     syncs install InspectGroups answers, workers record their own calls,
//     sequence numbers keep a late answer from undoing a newer change).
//     plan is a pure function of role, desired, observed, last-applied and
//     intent; execute goes through the lease gate under the term's context.
//     Each ended term's drain is counted on its own. A sync settles the
//     stored groups plan finds converged itself (reconciler/settle.go: the
//     same plan, no intent, nothing to do; counted and recorded as a
//     reconcile) and queues only the rest, so a resync of in-sync groups
//     moves nothing through the queue. Every store call goes through the
//     bounded store (deadlines, bounded goroutines), which has a capability
//     (sources.ChangeSaver, sources.Stager) only when the store it wraps
//     has it: the writer asks the store it holds for one, never a concrete
//     type.
//
// Health and misconfiguration (health.go, claims.go, reconciler/bounded_write.go): the
// bounded store keeps the last write's failure (no space, read-only, EBUSY,
// a store that vanished or hung; not a conflict), and while it fails the
// health loop asks the store, under storeMu, to rewrite its config unchanged
// (file.Store.CheckWrite) every resync interval. Claims (an flock'd
// lock file naming its holder: <plugin-dir>/<proxy-for-group>.lock, and in
// os mode <store-dir>/.manager-<name>.lock) are taken at start: one held by
// another process refuses the start (ErrMisconfigured); they are verified
// every resync interval, and one lost is logged at error level. Status and
// /readyz report all of it, the store vanished (sources.ErrStoreGone) and a
// downstream not found; /readyz reads the store through the bounded store.
//
// Leader location (location.go): with Options.Locations and Advertise the
// leader publishes its URL (replacing a former leader's) and clears it on
// stepping down or stopping; followers re-read it every LocationInterval
// and use it only while it names the holder the leadership source names.
// LeaderLocation, Status and /readyz answer from what it holds. Options.TCP
// serves the same Group API over TCP, and Options.Wrap puts a layer in front
// of both listeners (package forward), never inside the front.
//
// Lock order (the only nesting): reconciler.storeMu before desired.mu;
// desired.encMu (one InspectGroups encoding at a time) before desired.mu;
// lease.notify before lease.mu. Every other mutex is a leaf, and none is held
// across a downstream call or a leadership check; storeMu is held across
// store calls only (the writer confirms leadership before taking it and
// lets it go while the pretend commits' verdicts arrive). Per-group
// serialisation comes from the work queue: a key is never processed by two
// workers at once.
//
// Limits: os and swarm leadership is detected, not elected, and their
// writes are not fenced: the gate lets a leader act on a check that began at
// most one --poll-interval (RenewInterval) before the call, so a leader file
// that names another manager can see one more change from the old leader
// within that window (plus the call itself). A process frozen after the
// send gate's last check and before the write of the bytes it let through
// (a few lines of net/http's write path, same goroutine, nothing to wait
// for) sends them on waking, in every mode (the downstream takes no
// fencing token); the change is undone when it steps down. A store write has no second
// check: a save frozen after its confirm is made on waking unless the
// store's version changed meanwhile. The fenced handover bounds the old leader by its lease as measured on
// the new leader's monotonic clock: it assumes the two clocks run at
// about the same rate (the margin covers the rest) and that the source
// does not tell the old leader "leader" after it named the new one.
// A destroy carried out downstream whose store record could not be removed
// (leadership lost in between) is carried out again by the next leader: it
// commits the last stored spec and destroys it again. The last-applied
// record is in memory: after a restart a normalising plugin costs one
// commit per group. DescribeGroup is answered by
// this replica's downstream, so a follower answers "not being watched";
// InspectGroups answers the shared store on every replica, from memory while
// the store is unchanged.
package controller
