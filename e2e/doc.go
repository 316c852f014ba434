// Package e2e holds the end-to-end tests: they build the real binaries of
// cmd/ (once per test run), start them as real processes on real unix
// sockets in temporary plugin directories, and drive them with the infrakit
// CLI or the plugin client, asserting what a user would see: output, exit
// codes, sockets and files.
//
// The shared helpers are in binaries_test.go: binary (build once), proc
// (start, signal, kill, wait, captured output), shortTempDir (socket
// directories short enough for the 107-byte limit), runCLI and waitSocket.
//
// Limits: the tests need the Go toolchain (they run `go build`), and they
// are Linux/Unix only. They never touch the user's plugin directory.
package e2e
