package reconciler

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

// MaxStoreReads bounds the store reads running at once, abandoned ones
// included: a store that hangs (a hung NFS server, an engine that does not
// answer) costs at most this many goroutines, never one per request.
const MaxStoreReads = 4

// errStoreBusy: an earlier write has not returned; its outcome is unknown.
var errStoreBusy = errors.New("store not answering: an earlier write has not returned, its outcome is unknown")

// boundedStore gives every call of the store it wraps a deadline. A call
// that does not return in time is abandoned: the caller gets an error at
// the deadline, the call's goroutine returns when the store does. At most
// MaxStoreReads reads and one write (a Save, or a two-phase save from
// Prepare to Commit or Abort) run at a time; beyond that, callers get an
// error at once. An abandoned write's outcome is unknown, so the error says
// so and the next sync re-reads the store.
//
// It is a sources.Store and nothing more: bound wraps it in the type that
// also has the wrapped store's capabilities (sources.ChangeSaver,
// sources.Stager), and only those, so a caller asks the store it holds
// (store.(sources.ChangeSaver)) and never this type.
type boundedStore struct {
	s       sources.Store
	timeout time.Duration

	log logr.Logger // the write failures and recoveries, once per change

	mu       sync.Mutex
	reads    int
	writing  bool
	writeErr error // the last write's failure; nil after a success (see noteWrite)
}

func newBoundedStore(s sources.Store, timeout time.Duration, log logr.Logger) *boundedStore {
	return &boundedStore{s: s, timeout: timeout, log: log}
}

// bound is b as the store the reconciler calls: b's deadlines and bounds,
// with the capabilities of the store b wraps and no other
// (sources.ChangeSaver, sources.Stager, and sources.ChangeStager, which is
// used only with a Stager).
func bound(b *boundedStore) sources.Store {
	_, cs := b.s.(sources.ChangeSaver)
	_, st := b.s.(sources.Stager)
	_, cst := b.s.(sources.ChangeStager)
	switch {
	case st && cst && cs:
		return boundedSaverChangeStager{boundedChangeSaver{b}, boundedChangeStager{boundedStager{b}}}
	case st && cst:
		return boundedChangeStager{boundedStager{b}}
	case st && cs:
		return boundedSaverStager{boundedChangeSaver{b}, boundedStager{b}}
	case st:
		return boundedStager{b}
	case cs:
		return boundedChangeSaver{b}
	}
	return b
}

// The wrappers of bound, one per set of capabilities. The combined ones
// hold the two-phase half as an interface, so that the one *boundedStore
// they share is reached one way only.
type (
	boundedChangeSaver  struct{ *boundedStore }
	boundedStager       struct{ *boundedStore }
	boundedChangeStager struct{ boundedStager }
	boundedSaverStager  struct {
		boundedChangeSaver
		sources.Stager // a boundedStager over the same boundedStore
	}
	boundedSaverChangeStager struct {
		boundedChangeSaver
		stagerChanged // a boundedChangeStager over the same boundedStore
	}
	stagerChanged interface {
		sources.Stager
		sources.ChangeStager
	}
)

var (
	_ sources.Store        = (*boundedStore)(nil)
	_ sources.ChangeSaver  = boundedChangeSaver{}
	_ sources.Stager       = boundedStager{}
	_ stagerChanged        = boundedChangeStager{}
	_ sources.ChangeSaver  = boundedSaverStager{}
	_ sources.Stager       = boundedSaverStager{}
	_ sources.ChangeSaver  = boundedSaverChangeStager{}
	_ stagerChanged        = boundedSaverChangeStager{}
	_ sources.ChangeStager = boundedSaverChangeStager{}
)

func (c boundedChangeSaver) SaveChanged(ctx context.Context, cfg sources.Config, expected sources.Version, changed []plugin.ID) (sources.Version, error) {
	return c.saveChanged(ctx, cfg, expected, changed)
}

func (s boundedStager) Prepare(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Pending, error) {
	return s.prepare(ctx, func(ctx context.Context) (sources.Pending, error) {
		return s.s.(sources.Stager).Prepare(ctx, cfg, expected)
	})
}

func (s boundedChangeStager) PrepareChanged(ctx context.Context, delta sources.Config, expected sources.Version, changed []plugin.ID) (sources.Pending, error) {
	return s.prepare(ctx, func(ctx context.Context) (sources.Pending, error) {
		return s.s.(sources.ChangeStager).PrepareChanged(ctx, delta, expected, changed)
	})
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
	if b.reads >= MaxStoreReads {
		b.mu.Unlock()
		return sources.Config{}, "", fmt.Errorf("store not answering: %d reads have not returned", MaxStoreReads)
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
	return b.write(ctx, func(ctx context.Context) (sources.Version, error) {
		return b.s.Save(ctx, cfg, expected)
	})
}

// saveChanged is Save through the wrapped store's sources.ChangeSaver (a
// save that costs the changed groups, not the stored ones); same deadline
// and write slot.
func (b *boundedStore) saveChanged(ctx context.Context, cfg sources.Config, expected sources.Version, changed []plugin.ID) (sources.Version, error) {
	return b.write(ctx, func(ctx context.Context) (sources.Version, error) {
		return b.s.(sources.ChangeSaver).SaveChanged(ctx, cfg, expected, changed)
	})
}

// write takes the write slot and runs one write in it (writeWithin).
func (b *boundedStore) write(ctx context.Context, fn func(context.Context) (sources.Version, error)) (sources.Version, error) {
	release, err := b.acquireWrite()
	if err != nil {
		return "", err
	}
	return b.writeWithin(ctx, release, fn)
}

// writeWithin runs one write that holds the write slot (release lets it
// go) with the store's deadline, and records its outcome for health.
func (b *boundedStore) writeWithin(ctx context.Context, release func(), write func(context.Context) (sources.Version, error)) (sources.Version, error) {
	return within(ctx, b.timeout, "store write (its outcome is unknown)", write,
		func(_ sources.Version, err error) { b.noteWrite(err); release() })
}

// prepare runs one preparation of a two-phase save, fn (the wrapped
// store's Prepare or PrepareChanged): it and the Commit each run with the
// store's deadline, and hold the one write slot from the preparation until
// Commit or Abort.
func (b *boundedStore) prepare(ctx context.Context, fn func(context.Context) (sources.Pending, error)) (sources.Pending, error) {
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
	return p.b.writeWithin(ctx, p.release, p.p.Commit)
}

func (p *boundedPending) Abort() {
	p.p.Abort()
	p.release()
}
