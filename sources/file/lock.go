//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

const (
	lockBackoffMin = time.Millisecond
	lockBackoffMax = 20 * time.Millisecond
)

// lockFile takes an exclusive flock(2) on path (created 0600 if missing,
// never through a symbolic link),
// polling with LOCK_NB and a growing backoff so that ctx is honoured while
// another writer holds it. The returned func releases the lock.
//
// flock locks belong to the open file description, so two opens in the same
// process exclude each other just as two processes do.
func lockFile(ctx context.Context, path string) (func(), error) {
	// O_NOFOLLOW: a symlink planted at the lock path (even a dangling one)
	// must not make us create or lock a file outside the store directory.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("open lock file %s: it is a symbolic link; refusing to follow it (remove it): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	backoff := lockBackoffMin
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, lockBackoffMax)
	}
}
