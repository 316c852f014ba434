package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// maxStoreReads bounds the store reads running at once, abandoned ones
// included: a store that hangs (a hung NFS server, an engine that does not
// answer) costs at most this many goroutines, never one per request.
const maxStoreReads = 4

// errStoreBusy: an earlier write has not returned; its outcome is unknown.
var errStoreBusy = errors.New("store not answering: an earlier write has not returned, its outcome is unknown")

// boundedStore gives every call of the store it wraps a deadline. A call
// that does not return in time is abandoned: the caller gets an error at
// the deadline, the call's goroutine returns when the store does. At most
// maxStoreReads reads and one write (a Save, or a two-phase save from
// Prepare to Commit or Abort) run at a time; beyond that, callers get an
// error at once. An abandoned write's outcome is unknown, so the error says
// so and the next sync re-reads the store.
type boundedStore struct {
	s       sources.Store
	timeout time.Duration

	log logr.Logger // the write failures and recoveries, once per change

	mu       sync.Mutex
	reads    int
	writing  bool
	writeErr error // the last write's failure; nil after a success (see noteWrite)
}

var (
	_ sources.Store       = (*boundedStore)(nil)
	_ sources.ChangeSaver = (*boundedStore)(nil)
)

func newBoundedStore(s sources.Store, timeout time.Duration) *boundedStore {
	return &boundedStore{s: s, timeout: timeout, log: logr.Discard()}
}

// within runs fn with a deadline of timeout and returns its result, or an
// error naming what timed out if fn has not returned by then. fn keeps
// running after that; done runs when it returns, whether or not in time.
func within[T any](ctx context.Context, timeout time.Duration, what string, fn func(context.Context) (T, error), done func(T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done(v, err)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch: // finished at the deadline: keep the answer
			return r.v, r.err
		default:
		}
		var zero T
		return zero, fmt.Errorf("%s did not finish within %s: %w", what, timeout, ctx.Err())
	}
}

// acquireWrite takes the one write slot, or says why not.
func (b *boundedStore) acquireWrite() (release func(), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.writing {
		return nil, errStoreBusy
	}
	b.writing = true
	return sync.OnceFunc(func() {
		b.mu.Lock()
		b.writing = false
		b.mu.Unlock()
	}), nil
}

type loaded struct {
	cfg sources.Config
	v   sources.Version
}

// Load reads the store, at most timeout.
func (b *boundedStore) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	b.mu.Lock()
	if b.reads >= maxStoreReads {
		b.mu.Unlock()
		return sources.Config{}, "", fmt.Errorf("store not answering: %d reads have not returned", maxStoreReads)
	}
	b.reads++
	b.mu.Unlock()
	l, err := within(ctx, b.timeout, "store read", func(ctx context.Context) (loaded, error) {
		cfg, v, err := b.s.Load(ctx)
		return loaded{cfg, v}, err
	}, func(loaded, error) {
		b.mu.Lock()
		b.reads--
		b.mu.Unlock()
	})
	return l.cfg, l.v, err
}

// Save writes the store, at most timeout.
func (b *boundedStore) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	release, err := b.acquireWrite()
	if err != nil {
		return "", err
	}
	return within(ctx, b.timeout, "store write (its outcome is unknown)", func(ctx context.Context) (sources.Version, error) {
		return b.s.Save(ctx, cfg, expected)
	}, func(_ sources.Version, err error) { b.noteWrite(err); release() })
}

// SaveChanged is Save through the wrapped store's sources.ChangeSaver when
// it has one (a save that costs the changed groups, not the stored ones),
// else its Save; same deadline and write slot as Save.
func (b *boundedStore) SaveChanged(ctx context.Context, cfg sources.Config, expected sources.Version, changed []plugin.ID) (sources.Version, error) {
	cs, ok := b.s.(sources.ChangeSaver)
	if !ok {
		return b.Save(ctx, cfg, expected)
	}
	release, err := b.acquireWrite()
	if err != nil {
		return "", err
	}
	return within(ctx, b.timeout, "store write (its outcome is unknown)", func(ctx context.Context) (sources.Version, error) {
		return cs.SaveChanged(ctx, cfg, expected, changed)
	}, func(_ sources.Version, err error) { b.noteWrite(err); release() })
}

// stager returns the wrapped store's two-phase save, with the same
// deadlines and bounds as Save, if it has one.
func (b *boundedStore) stager() (sources.Stager, bool) {
	if _, ok := b.s.(sources.Stager); !ok {
		return nil, false
	}
	if _, ok := b.s.(sources.ChangeStager); ok {
		return boundedChangeStager{boundedStager{b}}, true
	}
	return boundedStager{b}, true
}

// boundedStager is a boundedStore's two-phase save: Prepare and Commit each
// run with the store's deadline, and hold the one write slot from Prepare
// until Commit or Abort.
type boundedStager struct{ b *boundedStore }

func (s boundedStager) Prepare(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Pending, error) {
	return s.prepare(ctx, func(ctx context.Context) (sources.Pending, error) {
		return s.b.s.(sources.Stager).Prepare(ctx, cfg, expected)
	})
}

// boundedChangeStager is a boundedStager whose store is a
// sources.ChangeStager, with the same bounds for PrepareChanged.
type boundedChangeStager struct{ boundedStager }

var _ sources.ChangeStager = boundedChangeStager{}

func (s boundedChangeStager) PrepareChanged(ctx context.Context, delta sources.Config, expected sources.Version, changed []plugin.ID) (sources.Pending, error) {
	return s.prepare(ctx, func(ctx context.Context) (sources.Pending, error) {
		return s.b.s.(sources.ChangeStager).PrepareChanged(ctx, delta, expected, changed)
	})
}

// prepare runs one preparation of a save, fn, with the store's deadline,
// holding the write slot until the result is committed or aborted.
func (s boundedStager) prepare(ctx context.Context, fn func(context.Context) (sources.Pending, error)) (sources.Pending, error) {
	b := s.b
	release, err := b.acquireWrite()
	if err != nil {
		return nil, err
	}
	// A Prepare that answers after the deadline is aborted: whichever of
	// the two (its answer, the give-up) comes second does it.
	var (
		mu     sync.Mutex
		gaveUp bool
		late   sources.Pending
	)
	p, err := within(ctx, b.timeout, "store write preparation", fn, func(p sources.Pending, err error) {
		if err != nil {
			b.noteWrite(err)
			release()
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if gaveUp {
			p.Abort()
			release()
			return
		}
		late = p
	})
	if err != nil {
		mu.Lock()
		defer mu.Unlock()
		gaveUp = true
		if late != nil && p == nil {
			late.Abort()
			release()
		}
		return nil, err
	}
	return &boundedPending{b: b, p: p, release: release}, nil
}

// boundedPending is a prepared save whose Commit has the store's deadline.
type boundedPending struct {
	b       *boundedStore
	p       sources.Pending
	release func()
}

func (p *boundedPending) Commit(ctx context.Context) (sources.Version, error) {
	return within(ctx, p.b.timeout, "store write (its outcome is unknown)", p.p.Commit,
		func(_ sources.Version, err error) { p.b.noteWrite(err); p.release() })
}

func (p *boundedPending) Abort() {
	p.p.Abort()
	p.release()
}
