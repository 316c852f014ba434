package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"
)

// Dial retry: a plugin whose listen backlog is full refuses a non-blocking
// connect with EAGAIN at once; a socket file nothing listens on (a plugin
// restarting, or dead) refuses with ECONNREFUSED. Both are retried with a
// short jittered backoff, EAGAIN until the call's deadline, ECONNREFUSED for
// refusedBudget only, so that a dead plugin is reported promptly.
const (
	dialBackoffMin = 2 * time.Millisecond
	dialBackoffMax = 100 * time.Millisecond
	refusedBudget  = 250 * time.Millisecond
)

// dialUnix connects to the socket at path, retrying as described above for
// at most maxWait (http.Transport may detach a dial from the request's
// deadline, so the call's timeout is passed here too).
func dialUnix(ctx context.Context, path string, maxWait time.Duration) (net.Conn, error) {
	var d net.Dialer
	start, backoff := time.Now(), dialBackoffMin
	for attempt := 1; ; attempt++ {
		conn, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			return conn, nil
		}
		busy := errors.Is(err, syscall.EAGAIN)
		refused := errors.Is(err, syscall.ECONNREFUSED)
		waited := time.Since(start)
		if !busy && !refused || !isSocket(path) || refused && waited >= refusedBudget || waited >= maxWait {
			return nil, annotateDial(err, attempt, busy)
		}
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, annotateDial(err, attempt, busy)
		case <-t.C:
		}
		backoff = min(2*backoff, dialBackoffMax)
	}
}

func annotateDial(err error, attempts int, busy bool) error {
	switch {
	case attempts == 1:
		return err
	case busy:
		return fmt.Errorf("%w (plugin overloaded: its listen backlog stayed full over %d dials)", err, attempts)
	default:
		return fmt.Errorf("%w (nothing accepted on the socket over %d dials)", err, attempts)
	}
}

func isSocket(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSocket != 0
}
