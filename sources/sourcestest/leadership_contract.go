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
// under test should poke on their own (events), not only on a slow poll.
const contractWait = 10 * time.Second

// LeadershipFixture is one Leadership under test and the knobs that drive
// its source. SetUnknown may be nil when the source cannot be made
// unreadable from a test.
type LeadershipFixture struct {
	L          sources.Leadership
	Set        func(leader bool)
	SetUnknown func()
}

// RunLeadershipContract runs the behaviour every sources.Leadership must
// have: Check answers the three states (unknown is an error, never "not
// leader"), honours a cancelled context, and Watch pokes after a change,
// never concurrently, and returns nil when its context ends.
func RunLeadershipContract(t *testing.T, newF func(t *testing.T) LeadershipFixture) {
	t.Helper()

	for _, leader := range []bool{true, false} {
		name := map[bool]string{true: "leader", false: "follower"}[leader]
		t.Run("check answers "+name, func(t *testing.T) {
			f := newF(t)
			f.Set(leader)
			got, err := f.L.Check(context.Background())
			require.NoError(t, err)
			require.Equal(t, leader, got.Leader)
			if leader {
				require.NotEmpty(t, got.Holder, "a leader knows who leads: itself")
			}
		})
	}

	t.Run("unknown is an error, never not-leader", func(t *testing.T) {
		f := newF(t)
		if f.SetUnknown == nil {
			t.Skip("this source cannot be made unreadable from a test")
		}
		f.Set(true)
		f.SetUnknown()
		_, err := f.L.Check(context.Background())
		require.Error(t, err)
	})

	t.Run("check honours a cancelled context", func(t *testing.T) {
		f := newF(t)
		f.Set(true)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := f.L.Check(ctx)
		require.Error(t, err)
	})

	t.Run("watch pokes after every change, never concurrently", func(t *testing.T) {
		f := newF(t)
		f.Set(false)
		p := StartPokes(t, f.L)
		p.Next(t) // the first poke comes at once
		for _, leader := range []bool{true, false, true} {
			p.Drain()
			f.Set(leader)
			p.Next(t)
			got, err := f.L.Check(context.Background())
			require.NoError(t, err)
			require.Equal(t, leader, got.Leader)
		}
		p.Stop(t)
		require.Zero(t, p.Overlaps(), "poke was called concurrently")
	})

	t.Run("watch returns nil when ctx is done", func(t *testing.T) {
		f := newF(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- f.L.Watch(ctx, func() {}) }()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(contractWait):
			t.Fatal("Watch with a cancelled context did not return")
		}
	})
}

// Pokes runs one Leadership.Watch and counts its pokes.
type Pokes struct {
	cancel   context.CancelFunc
	done     chan error
	ch       chan struct{}
	inFlight atomic.Int32
	overlaps atomic.Int32
	stopped  bool
}

// StartPokes starts l.Watch in a goroutine; t's cleanup stops it.
func StartPokes(t testing.TB, l sources.Leadership) *Pokes {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pokes{cancel: cancel, done: make(chan error, 1), ch: make(chan struct{}, 1024)}
	go func() {
		p.done <- l.Watch(ctx, func() {
			if p.inFlight.Add(1) > 1 {
				p.overlaps.Add(1)
			}
			select {
			case p.ch <- struct{}{}:
			default:
			}
			p.inFlight.Add(-1)
		})
	}()
	t.Cleanup(func() { p.Stop(t) })
	return p
}

// Next waits for the next poke.
func (p *Pokes) Next(t testing.TB) {
	t.Helper()
	select {
	case <-p.ch:
	case <-time.After(contractWait):
		t.Fatalf("no poke within %s", contractWait)
	}
}

// Drain forgets the pokes received so far.
func (p *Pokes) Drain() {
	for {
		select {
		case <-p.ch:
		default:
			return
		}
	}
}

// Stop cancels the Watch and waits for it to return nil. It is idempotent.
func (p *Pokes) Stop(t testing.TB) {
	t.Helper()
	if p.stopped {
		return
	}
	p.stopped = true
	p.cancel()
	select {
	case err := <-p.done:
		require.NoError(t, err)
	case <-time.After(contractWait):
		t.Fatalf("Watch did not return within %s of its context being cancelled", contractWait)
	}
}

// Overlaps counts pokes that ran while another was running.
func (p *Pokes) Overlaps() int { return int(p.overlaps.Load()) }
