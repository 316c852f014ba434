// Package reconciler is the only actor on the downstream: a level-triggered
// loop that makes the downstream group plugin run exactly the stored groups
// while this replica leads (and nothing while it does not), and the one
// way in for users' changes, Submit.
//
// It owns desired state (desired.go: the store as last read or written),
// observed state (observed.go: the downstream as last seen, with the
// last-applied record), pending intents (intents.go), the work queue and
// its workers, the sync loop, the batching writer (batch.go) over the
// bounded store (bounded_store.go: every store call has a deadline, and
// the store's capabilities are exposed only when it has them), durable
// destroys (destroy.go) and the handover of each term (handover.go). plan
// is a pure function of role, desired, observed, last-applied and intent;
// execute goes through the lease's gate (package lease) under the term's
// context. Status reads Snapshot; InspectGroups reads Stored.
//
// Its job ends there: it serves no socket, takes no claim and knows nothing of the Group API's
// wording; the front (package front) calls it through front.Reconciler and
// the daemon (package controller) wires and runs it.
//
// Lock order (the only nesting): storeMu before desired.mu; desired.encMu
// before desired.mu. Every other mutex is a leaf, and none is held across a
// downstream call or a leadership check.
package reconciler
