// Package sources says where desired state and authority come from: the
// Store (the committed group specs, loaded with a version and saved against
// an expected version) and the Leadership (is this replica the one that acts).
//
// File implementations live here; the Docker Swarm implementations live in
// sources/swarm, the only package that imports the Docker client. Fakes and
// the contract tests every implementation passes are in sources/sourcestest.
//
// Limits: leadership is detection, not election. Nothing here fences a
// deposed leader; the controller keeps its downstream actions idempotent and
// frees everything as soon as leadership is lost.
package sources
