package ops

import "errors"

// Sentinel errors. Check with errors.Is.
var (
	// ErrBind: the --metrics-addr listener could not be opened; the error
	// names the address.
	ErrBind = errors.New("cannot listen on --metrics-addr")
	// ErrCheckTimeout: a health check did not answer within its deadline.
	ErrCheckTimeout = errors.New("check did not answer in time")
)
