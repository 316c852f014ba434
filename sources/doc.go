// Package sources says where desired state and authority come from: the
// Store (the committed group specs, loaded with a version and saved against
// an expected version) and the Leadership (is this replica the one that acts).
// A Config also holds the pending destroys (Config.Destroying: each group
// whose destroy was accepted and not yet carried out, with its last stored
// entry); every Store round-trips them (the contract), the file and label as
// a top-level "Destroying" after "Groups" that the original manager ignores.
//
// The file implementations live here. FileStore keeps <dir>/global.config in
// the original manager's byte format, versioned by a digest of the config;
// it keeps each group's encoding, so a save encodes only what changed, and
// serves Load from memory while a stat shows the file unchanged. Writers in
// any process serialise on an flock and replace the file atomically, and a
// file that cannot be decoded (or is empty, or is not a regular file) is
// reported and never overwritten. A Store may also be a Stager: a save in
// two phases, the durable write first and the visible switch later, so
// that the caller can overlap the write with other work; or a ChangeSaver:
// a save told which groups changed, so that it need not compare the rest.
// A FileStore's directory must exist (or be created on request); a store
// that vanished (global.config seen and now missing, the directory missing
// or on another file system) is ErrStoreGone, never an empty config, and
// CheckWrite tells whether it can be written without changing it.
// FileLeadership reads a shared leader file, reacting to file
// system events within milliseconds and polling as a fallback. Update is the
// load-mutate-save loop with bounded retries on ErrConflict that every
// writer should use. The Docker Swarm implementations live in sources/swarm,
// the only package that imports the Docker client. Fakes and the contract
// tests every implementation passes are in sources/sourcestest.
//
// LocationStore keeps where the leader's Group API is reached (its
// advertised URL and its holder name): FileLocation is <leader-file>.location
// (written atomically and fsynced; the original ignores it),
// sources/swarm.Location a cluster spec label of its own, and
// sources/etcd.Location a key beside the election. All pass
// RunLocationContract.
//
// Limits: leadership is detection, not election. Nothing here fences a
// deposed leader; the controller keeps its downstream actions idempotent and
// frees everything as soon as leadership is lost. The file lock is advisory
// (hand edits should write a temp file and rename it) and the file
// implementations need a Unix system.
package sources
