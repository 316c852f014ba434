// Package etcd implements leadership and the group store on an etcd v3
// cluster: a lease-based election whose failover time the operator chooses,
// store writes fenced by the leader key's revision, one key per group, and a
// watched cache instead of polling.
//
// Leadership campaigns under <prefix>/election/ with a lease of its own: a
// key per candidate (put if absent, on the lease), the first-created key
// leads, and a linearizable read of the first key (after every watch event
// and every TTL/10, so a lagging watch delays nothing) finds the win, at
// that read's revision. One loop renews the lease (KeepAliveOnce every
// TTL/25) and it alone moves the local deadline on the monotonic clock: the
// send time of the last answered renewal + TTL − SafetyMargin (TTL/12).
// Check is local (no network) and answers "not leader" or an error once past
// that deadline, so a paused or cut-off leader stops acting before the
// server can have expired its lease; the session then ends at once and the
// lease is revoked, retried until etcd answers, so another candidate wins as
// soon as etcd can tell it. With SetView, a won election counts only once the
// Store's view holds every write up to the win's revision (Store.Current):
// until then Check is unknown (ErrViewBehind), and the Store wakes Watch when
// it catches up. Resign (shutdown) makes Check "not leader" while the key is
// still held, so the controller frees before Close revokes; Rivals counts
// the candidates that would take over. Diagnose says per endpoint why a
// client gets no answer (connect error, TLS handshake error, an http://
// endpoint that speaks TLS).
//
// Store keeps one key per group under <prefix>/groups/<escaped ID> (see
// EscapeID), the value being the original's stored entry
// ({"Plugin":…,"Properties":…}, `&`, `<`, `>` unescaped), plus the version
// key <prefix>/groups/ that every Save bumps; pending destroys
// (sources.Config.Destroying) are keys of their own under
// <prefix>/groups/~destroying/ (see destroying.go). A watch keeps an
// in-memory cache: Load answers from it, and a commit on the leader reaches
// followers' caches within one watch event. While the watch is
// re-established (it ended: compaction, a broken stream) Load fails with
// ErrViewBehind. Keys with a '/' after <prefix>/groups/ (other than
// ~destroying/) belong to a nested prefix and are ignored silently. Save
// diffs the whole Config against the cache (SaveChanged, the
// sources.ChangeSaver the controller uses, only the groups it is told
// changed, so a commit costs the same with 10 or 10,000 groups stored) and
// writes only the changed keys in one Txn, guarded by the version key's
// and each changed key's ModRevision and, when a Fencer is set, by the leader key's
// CreateRevision; a failed fence is ErrNotLeader, a failed version compare
// sources.ErrConflict. A foreign value that does not decode is logged, that
// group skipped, and never overwritten.
//
// Limits: one Save may change at most StoreOptions.MaxTxnOps−2 groups (etcd's
// --max-txn-ops, 128 by default); Import splits larger migrations into
// several Saves of at most a Batch (groups and bytes), compares specs as
// JSON values, and ParseImport refuses IDs that cannot be stored as written.
// A NOSPACE answer is ErrNoSpace (nothing written). A Save whose call times out has an unknown outcome (the
// write may have applied); callers reload and retry, and the cache shows
// the truth after the watch catches up. Versions are local to one Store
// value: two Stores on the same prefix may name the same state differently.
// The lease TTL is whole seconds (etcd's unit).
package etcd
