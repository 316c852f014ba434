// Package file implements the sources interfaces for os mode on a local or
// shared file system, as the original manager's os mode did.
//
// Store keeps <dir>/global.config in the original manager's byte format,
// versioned by a digest of the config; it keeps each group's encoding, so a
// save encodes only what changed, and serves Load from memory while a stat
// shows the file unchanged. Writers in any process serialise on an flock
// and replace the file atomically, and a file that cannot be decoded (or is
// empty, or is not a regular file) is reported and never overwritten. Store
// is a sources.Stager. Its directory must exist (or be created on request);
// a store that vanished (global.config seen and now missing, the directory
// missing or on another file system) is sources.ErrStoreGone, never an
// empty config, and CheckWrite tells whether it can be written without
// changing it.
//
// Leadership reads a shared leader file, reacting to file system events
// within milliseconds and polling as a fallback. Location is
// <leader-file>.location, where the leader's Group API is reached (written
// atomically and fsynced; the original ignores it). Handover is the
// handover record beside the store. Encoder renders the stored format
// incrementally; the swarm label, which holds the same bytes, uses it too.
//
// Limits: leadership is detection, not election, and nothing here fences a
// deposed leader. The file lock is advisory (hand edits should write a temp
// file and rename it) and the package needs a Unix system.
package file
