package main

import "errors"

// Sentinel errors. Check with errors.Is.
var (
	// errExited: a process exited while it was expected to serve.
	errExited = errors.New("process exited")
	// errTimeout: awaited events did not arrive in time.
	errTimeout = errors.New("timed out")
)
