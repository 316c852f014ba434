package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/sources"
)

// maxStoreReads bounds the store reads running at once, abandoned ones
// included: a store that hangs (a FIFO on a file system that ignores
// O_NONBLOCK, a hung NFS server, an engine that does not answer) costs at
// most this many goroutines, never one per request.
const maxStoreReads = 4

// boundedStore gives every call of the store it wraps a deadline. A call
// that does not return in time is abandoned: the caller gets an error at
// the deadline, the call's goroutine returns when the store does. At most
// maxStoreReads reads and one write run at a time; beyond that, callers get
// an error at once. An abandoned write's outcome is unknown, so the error
// says so and the next sync re-reads the store.
type boundedStore struct {
	s       sources.Store
	timeout time.Duration

	mu      sync.Mutex
	reads   int
	writing bool
}

var _ sources.Store = (*boundedStore)(nil)

func newBoundedStore(s sources.Store, timeout time.Duration) *boundedStore {
	return &boundedStore{s: s, timeout: timeout}
}

type loadResult struct {
	cfg sources.Config
	v   sources.Version
	err error
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
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	done := make(chan loadResult, 1)
	go func() {
		cfg, v, err := b.s.Load(ctx)
		b.mu.Lock()
		b.reads--
		b.mu.Unlock()
		done <- loadResult{cfg, v, err}
	}()
	select {
	case r := <-done:
		return r.cfg, r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done:
			return r.cfg, r.v, r.err
		default:
		}
		return sources.Config{}, "", fmt.Errorf("store read did not finish within %s: %w", b.timeout, ctx.Err())
	}
}

// Save writes the store, at most timeout.
func (b *boundedStore) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	b.mu.Lock()
	if b.writing {
		b.mu.Unlock()
		return "", fmt.Errorf("store not answering: an earlier write has not returned, its outcome is unknown")
	}
	b.writing = true
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	done := make(chan loadResult, 1)
	go func() {
		v, err := b.s.Save(ctx, cfg, expected)
		b.mu.Lock()
		b.writing = false
		b.mu.Unlock()
		done <- loadResult{v: v, err: err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done:
			return r.v, r.err
		default:
		}
		return "", fmt.Errorf("store write did not finish within %s, its outcome is unknown: %w", b.timeout, ctx.Err())
	}
}

// stager returns the wrapped store's two-phase save, with the same
// deadlines and bounds as Save, if it has one.
func (b *boundedStore) stager() (sources.Stager, bool) {
	if _, ok := b.s.(sources.Stager); !ok {
		return nil, false
	}
	return boundedStager{b}, true
}

// boundedStager is a boundedStore's two-phase save: Prepare and Commit each
// run with the store's deadline, and count as the one write in flight from
// Prepare until Commit or Abort.
type boundedStager struct{ b *boundedStore }

type prepareResult struct {
	p   sources.Pending
	err error
}

func (s boundedStager) Prepare(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Pending, error) {
	b := s.b
	b.mu.Lock()
	if b.writing {
		b.mu.Unlock()
		return nil, fmt.Errorf("store not answering: an earlier write has not returned, its outcome is unknown")
	}
	b.writing = true
	b.mu.Unlock()
	release := sync.OnceFunc(func() {
		b.mu.Lock()
		b.writing = false
		b.mu.Unlock()
	})
	pctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	done := make(chan prepareResult, 1)
	go func() {
		p, err := b.s.(sources.Stager).Prepare(pctx, cfg, expected)
		if err != nil {
			release()
		}
		done <- prepareResult{p, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		return &boundedPending{b: b, p: r.p, release: release}, nil
	case <-pctx.Done():
		go func() { // abandoned: clean up whatever it prepared
			if r := <-done; r.err == nil {
				r.p.Abort()
				release()
			}
		}()
		return nil, fmt.Errorf("store write did not finish preparing within %s: %w", b.timeout, pctx.Err())
	}
}

// boundedPending is a prepared save whose Commit has the store's deadline.
type boundedPending struct {
	b       *boundedStore
	p       sources.Pending
	release func()
}

func (p *boundedPending) Commit(ctx context.Context) (sources.Version, error) {
	ctx, cancel := context.WithTimeout(ctx, p.b.timeout)
	defer cancel()
	done := make(chan loadResult, 1)
	go func() {
		v, err := p.p.Commit(ctx)
		p.release()
		done <- loadResult{v: v, err: err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done:
			return r.v, r.err
		default:
		}
		return "", fmt.Errorf("store write did not finish within %s, its outcome is unknown: %w", p.b.timeout, ctx.Err())
	}
}

func (p *boundedPending) Abort() {
	p.p.Abort()
	p.release()
}
