package etcd

import (
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

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
	// ErrNoSpace: etcd refused a write with NOSPACE: its backend reached
	// --quota-backend-bytes and it raised the NOSPACE alarm. Nothing was
	// written; compact, defragment and disarm the alarm (etcdctl alarm
	// disarm), or raise the quota.
	ErrNoSpace = errors.New("etcd is out of space (NOSPACE alarm: quota reached)")
	// ErrTLSFile: a ClientOptions CACert, Cert or Key file cannot be read or
	// parsed; the error names the field and the file.
	ErrTLSFile = errors.New("bad TLS file")
)

// isNoSpace reports etcd's NOSPACE answer.
func isNoSpace(err error) bool {
	return errors.Is(err, rpctypes.ErrGRPCNoSpace) || errors.Is(err, rpctypes.ErrNoSpace) ||
		rpctypes.ErrorDesc(err) == rpctypes.ErrNoSpace.Error()
}
