package lease

import (
	"context"
	"sync"
	"time"
)

// Term is one leadership term, the scope of its downstream work: ctx is
// cancelled when the term ends, and inflight counts the downstream changes
// running under it, which the end of the term waits for (bounded) before
// anything is freed.
type Term struct {
	id       uint64
	ctx      context.Context
	cancel   context.CancelFunc
	inflight sync.WaitGroup
	// gained is when this replica first saw itself lead in this term.
	gained time.Time
	// fenced (under Lease.mu): the previous holder may still act, so the
	// gate allows no downstream change yet (Lift lifts it).
	fenced bool
}

// Release ends an in-flight change registered by Confirm.
func (t *Term) Release() { t.inflight.Done() }

// Wait waits for the term's in-flight changes to return, at most d, and
// reports whether they all did.
func (t *Term) Wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { t.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// ID is the term's number, counted from 1 by this lease.
func (t *Term) ID() uint64 { return t.id }

// Context is done when the term ends.
func (t *Term) Context() context.Context { return t.ctx }

// Gained is when this replica first saw itself lead in this term.
func (t *Term) Gained() time.Time { return t.gained }
