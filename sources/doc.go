// Package sources says where desired state and authority come from: the
// Store (the committed group specs, loaded with a version and saved against
// an expected version) and the Leadership (is this replica the one that acts).
// A Config also holds the pending destroys (Config.Destroying: each group
// whose destroy was accepted and not yet carried out, with its last stored
// entry); every Store round-trips them (the contract), the file and label as
// a top-level "Destroying" after "Groups" that the original manager ignores.
//
// This package holds the interfaces and what every implementation shares:
// the sentinel errors, the original's stored format (EncodeConfig and
// DecodeConfig), Update (the load-mutate-save loop with bounded retries on
// ErrConflict that every writer should use), the Handover record and the
// Location of the leader's Group API. A Store may also be a Stager: a save
// in two phases, the durable write first and the visible switch later, so
// that the caller can overlap the write with other work; or a ChangeSaver:
// a save told which groups changed, so that it need not compare the rest.
// Callers ask for a capability with a type assertion on the Store.
//
// The implementations live in subpackages, one per backend: sources/file
// (os mode: <dir>/global.config and a shared leader file), sources/swarm
// (a label on the Swarm cluster spec and the Raft leader; the only package
// that imports the Docker client) and sources/etcd (one key per group,
// fenced writes, lease election). Fakes and the contract tests every
// implementation passes (RunStoreContract, RunLocationContract, ...) are in
// sources/sourcestest.
//
// Limits: the file and swarm leaderships are detection, not election, and
// their stores do not fence a deposed leader (etcd's writes are fenced:
// ErrFenced); the controller keeps its downstream actions idempotent and
// frees everything as soon as leadership is lost.
package sources
