package etcd

import "errors"

// Sentinel errors. Check with errors.Is.
var (
	// ErrNotLeader: this manager does not hold the election (or its local
	// lease deadline has passed), or a fenced write found the leader key
	// gone or re-created. Nothing was written.
	ErrNotLeader = errors.New("not the etcd leader")
	// ErrLeaseExpired: the local lease deadline passed without a renewal,
	// so whether the lease still lives at the server is unknown.
	ErrLeaseExpired = errors.New("etcd lease deadline passed")
	// ErrNotReady: the store has not yet loaded its cache from etcd.
	ErrNotReady = errors.New("etcd store not loaded yet")
	// ErrTLSFile: a --cacert, --cert or --key file cannot be read or parsed.
	ErrTLSFile = errors.New("bad TLS file")
)
