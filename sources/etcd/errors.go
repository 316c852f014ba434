package etcd

import (
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/sources"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrNotLeader: this manager does not hold the election (or its local
	// lease deadline has passed), or a fenced write found the leader key
	// gone or re-created. Nothing was written.
	// It wraps sources.ErrFenced, which the controller answers as
	// not-a-leader.
	ErrNotLeader = fmt.Errorf("not the etcd leader: %w", sources.ErrFenced)
	// ErrLeaseExpired: the local lease deadline passed without a renewal,
	// so whether the lease still lives at the server is unknown.
	ErrLeaseExpired = errors.New("etcd lease deadline passed")
	// ErrViewBehind: the store's watched view does not yet hold every write
	// up to the revision at which this manager won the election (or it is
	// re-listing): leadership is unknown until it does.
	ErrViewBehind = errors.New("etcd store view behind the election")
	// ErrNotReady: the store has not yet loaded its cache from etcd.
	ErrNotReady = errors.New("etcd store not loaded yet")
	// ErrTLSFile: a --cacert, --cert or --key file cannot be read or parsed.
	ErrTLSFile = errors.New("bad TLS file")
)
