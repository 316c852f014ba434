// Package buildinfo tells which build is running: the release version kept
// in the repository's VERSION file, the commit and build date (all three set
// by the Makefile with -ldflags -X), and the Go version.
//
// Limits: a binary built without the Makefile (go build, go install) has no
// ldflags; Get then falls back to what the Go toolchain recorded: the module
// version for `go install …@vX.Y.Z`, and the VCS commit and time when built
// inside a git checkout with VCS stamping on. What neither knows reads
// "unknown" ("dev" for the version).
package buildinfo
