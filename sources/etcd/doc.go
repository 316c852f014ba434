// Package etcd implements leadership and the group store on an etcd v3
// cluster: a lease-based election whose failover time the operator chooses,
// store writes fenced by the leader key's revision, one key per group, and a
// watched cache instead of polling.
//
// Leadership campaigns with the client library's concurrency election under
// <prefix>/election/, the candidate value naming this manager (Status.Holder).
// It renews its lease itself every fifth of the TTL and keeps a local lease
// deadline on the monotonic clock: the send time of the last answered
// keep-alive + TTL − SafetyMargin. Check is local (no network) and answers
// "not leader" or an error once past that deadline, so a paused or cut-off
// leader stops acting before the server can have expired its lease.
//
// Store keeps one key per group under <prefix>/groups/<escaped ID> (see
// EscapeID), the value being the original's stored entry
// ({"Plugin":…,"Properties":…}), plus the version key <prefix>/groups/ that
// every Save bumps; pending destroys (sources.Config.Destroying) are keys
// of their own under <prefix>/groups/~destroying/ (see destroying.go). A
// watch keeps an in-memory cache: Load answers from it, and a commit on the leader reaches followers' caches within one watch
// event. Save diffs the whole Config against the cache (SaveChanged, the
// sources.ChangeSaver the controller uses, only the groups it is told
// changed, so a commit costs the same with 10 or 10,000 groups stored) and
// writes only the changed keys in one Txn, guarded by the version key's
// and each changed key's ModRevision and, when a Fencer is set, by the leader key's
// CreateRevision; a failed fence is ErrNotLeader, a failed version compare
// sources.ErrConflict. A foreign value that does not decode is logged, that
// group skipped, and never overwritten.
//
// Limits: one Save may change at most StoreOptions.MaxTxnOps−3 groups (etcd's
// --max-txn-ops, 128 by default); Import splits larger migrations into
// several Saves. A Save whose call times out has an unknown outcome (the
// write may have applied); callers reload and retry, and the cache shows
// the truth after the watch catches up. Versions are local to one Store
// value: two Stores on the same prefix may name the same state differently.
// The lease TTL is whole seconds (etcd's unit).
package etcd
