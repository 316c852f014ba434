package sourcestest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

// contractWait bounds every wait in the leadership contract. Implementations
// under test should use a poll interval far longer than this, so that a pass
// shows changes arrive without waiting for a poll.
const contractWait = 10 * time.Second

// RunLeadershipContract runs the behaviour every sources.Leadership must
// have. newL returns a new Leadership and a func that makes the source say
// this replica is (or is not) the leader.
func RunLeadershipContract(t *testing.T, newL func(t *testing.T) (l sources.Leadership, set func(leader bool))) {
	t.Helper()

	for _, leader := range []bool{true, false} {
		name := map[bool]string{true: "leader", false: "follower"}[leader]
		t.Run("first status is delivered at once as "+name, func(t *testing.T) {
			l, set := newL(t)
			set(leader)
			got, err := l.Check(context.Background())
			require.NoError(t, err)
			require.Equal(t, leader, got)
			w := StartWatch(t, l)
			require.Equal(t, leader, w.Next(t))
		})
	}

	t.Run("changes are delivered once each", func(t *testing.T) {
		l, set := newL(t)
		set(false)
		w := StartWatch(t, l)
		require.False(t, w.Next(t))
		set(true)
		require.True(t, w.Next(t))
		set(true) // unchanged: must not be reported
		set(false)
		require.False(t, w.Next(t))
		set(false)
		set(true)
		require.True(t, w.Next(t))
		w.Stop(t)
		require.Equal(t, []bool{false, true, false, true}, w.All())
		require.Zero(t, w.Overlaps(), "changed was called concurrently")
	})

	t.Run("watch returns nil when ctx is done", func(t *testing.T) {
		l, set := newL(t)
		set(true)
		w := StartWatch(t, l)
		require.True(t, w.Next(t))
		w.Stop(t)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- l.Watch(ctx, func(bool) {}) }()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(contractWait):
			t.Fatal("Watch with a cancelled context did not return")
		}
	})
}

// Watcher runs one Leadership.Watch and records what it reports.
type Watcher struct {
	cancel   context.CancelFunc
	done     chan error
	ch       chan bool
	inFlight atomic.Int32
	overlaps atomic.Int32
	all      []bool // guarded by done: read only after Watch returned
	seen     []bool // appended by the Watch goroutine
}

// StartWatch starts l.Watch in a goroutine; t's cleanup stops it.
func StartWatch(t testing.TB, l sources.Leadership) *Watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{cancel: cancel, done: make(chan error, 1), ch: make(chan bool, 1024)}
	go func() {
		w.done <- l.Watch(ctx, func(leader bool) {
			if w.inFlight.Add(1) > 1 {
				w.overlaps.Add(1)
			}
			w.seen = append(w.seen, leader)
			w.ch <- leader
			w.inFlight.Add(-1)
		})
	}()
	t.Cleanup(func() { w.Stop(t) })
	return w
}

// Next waits for the next reported status.
func (w *Watcher) Next(t testing.TB) bool {
	t.Helper()
	select {
	case v := <-w.ch:
		return v
	case <-time.After(contractWait):
		t.Fatalf("no leadership status reported within %s", contractWait)
		return false
	}
}

// Stop cancels the Watch and waits for it to return nil. It is idempotent.
func (w *Watcher) Stop(t testing.TB) {
	t.Helper()
	w.cancel()
	select {
	case err, ok := <-w.done:
		if ok {
			require.NoError(t, err)
			w.all = w.seen
			close(w.done)
		}
	case <-time.After(contractWait):
		t.Fatalf("Watch did not return within %s of its context being cancelled", contractWait)
	}
}

// All returns every status reported; call it after Stop.
func (w *Watcher) All() []bool { return w.all }

// Overlaps counts calls to changed that ran while another was running.
func (w *Watcher) Overlaps() int { return int(w.overlaps.Load()) }
