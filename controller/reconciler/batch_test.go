package reconciler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// gatedStore blocks its first Save until released, and counts saves.
type gatedStore struct {
	sources.Store
	release chan struct{}
	saves   atomic.Int32
	once    sync.Once
}

func (g *gatedStore) Save(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Version, error) {
	g.once.Do(func() { <-g.release })
	g.saves.Add(1)
	return g.Store.Save(ctx, cfg, v)
}

func TestWriter_ConcurrentCommitsShareOneSave(t *testing.T) {
	base := newEnv(t, true)
	gs := &gatedStore{Store: base.store, release: make(chan struct{})}
	e := newEnv(t, true, func(o *Options) { o.Store = gs })
	e.start(t)
	e.waitLeader(t, true)

	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	commit := func(i int) {
		defer wg.Done()
		_, err := e.m.Group().CommitGroup(context.Background(), spec(fmt.Sprintf("g%02d", i), 1), false)
		errs <- err
	}
	wg.Add(1)
	go commit(0) // its save blocks in the store
	require.Eventually(t, func() bool {
		e.m.r.w.mu.Lock()
		defer e.m.r.w.mu.Unlock()
		return e.m.r.w.flushing && len(e.m.r.w.pending) == 0
	}, timeout, tick, "the first write is being saved")
	for i := 1; i < n; i++ {
		wg.Add(1)
		go commit(i)
	}
	require.Eventually(t, func() bool {
		e.m.r.w.mu.Lock()
		defer e.m.r.w.mu.Unlock()
		return len(e.m.r.w.pending) == n-1
	}, timeout, tick, "the other writes queue behind it")
	close(gs.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, base.stored(t), n, "stored in the gated store")
	require.Equal(t, int32(2), gs.saves.Load(), "one save for the first write, one for the 15 queued behind it")

	// The desired cache saw every group: all of them run downstream.
	require.Len(t, e.running(t), n)
	require.Len(t, e.m.r.desired.keys(), n)
}

// steppedStore announces every Save and lets it proceed one step at a time.
type steppedStore struct {
	sources.Store
	entered chan struct{}
	step    chan struct{}
}

func (s *steppedStore) Save(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Version, error) {
	s.entered <- struct{}{}
	<-s.step
	return s.Store.Save(ctx, cfg, v)
}

func TestWriter_FlusherIsNotHeldUpByLaterWrites(t *testing.T) {
	base := newEnv(t, true)
	ss := &steppedStore{Store: base.store, entered: make(chan struct{}, 4), step: make(chan struct{})}
	e := newEnv(t, true, func(o *Options) { o.Store = ss })
	e.start(t)
	e.waitLeader(t, true)

	commit := func(id string) chan error {
		done := make(chan error, 1)
		go func() {
			_, err := e.m.Group().CommitGroup(context.Background(), spec(id, 1), false)
			done <- err
		}()
		return done
	}
	first := commit("first")
	<-ss.entered // the first save is in progress
	second := commit("second")
	require.Eventually(t, func() bool {
		e.m.r.w.mu.Lock()
		defer e.m.r.w.mu.Unlock()
		return len(e.m.r.w.pending) == 1
	}, timeout, tick, "the second write queues behind the first save")

	ss.step <- struct{}{} // the first save completes
	require.NoError(t, <-first, "the first caller answers although the second write is still queued")
	<-ss.entered // the second save runs in its own flush
	select {
	case err := <-second:
		t.Fatalf("second write answered before its save completed: %v", err)
	default:
	}
	ss.step <- struct{}{}
	require.NoError(t, <-second)
	require.ElementsMatch(t, []plugin.ID{"first", "second"}, base.stored(t))
}
