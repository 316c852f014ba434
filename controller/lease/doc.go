// Package lease turns a three-answer leadership source (leader, not
// leader, unknown: sources.Leadership) into a role with a lease and
// numbered terms, and is the gate in front of every downstream change and
// store write a leader makes.
//
// A confirmation (a check that said "leader") is good for
// Options.Duration on the monotonic clock, or until the source's own
// expiry if earlier; an unknown answer keeps the role until it lapses, "not
// leader" ends it at once. Confirm lets a change through only on a
// confirmation younger than one renewal interval (an older one is re-checked
// synchronously first), registers it as in flight in the current Term
// (Release ends it; Term.Wait waits for them) and, for a fenced term,
// answers ErrFenced until Lift. SendGate asks the same again at the last
// moment before a request is written (plugin.WithSendGate).
//
// Its job ends there: it knows nothing of groups, stores or the
// downstream. What a role change means (freeing, the handover record) is
// the caller's, through the onChange callback given to New, called in order
// under the lease's notify lock (callbacks must not call back into Confirm).
//
// Limits: os and swarm leadership is detected, not elected; the gate lets
// a leader act on a check that began at most one RenewInterval before the
// call. A process frozen between SendGate's last check and the write of the
// bytes it let through sends them on waking.
//
// Lock order: notify before mu; both are the lease's own.
package lease
