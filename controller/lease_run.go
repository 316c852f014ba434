package controller

import (
	"context"
	"fmt"
	"time"
)

// run renews the lease until ctx is done: a check at every renewal tick and
// at every poke (coalesced), and the expiry rule at every tick. It returns
// once ctx is done; checks still running are abandoned (each has its own
// deadline and its answer is dropped).
func (l *lease) run(ctx context.Context, poke <-chan struct{}) {
	ticker := l.o.clock.NewTicker(l.o.renew)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			l.tick()
			l.start()
			if l.onTick != nil {
				l.onTick()
			}
		case <-poke:
			l.start()
		}
	}
}

// setBase makes ctx the parent of every term context and of every check;
// Stop cancels it. Called once before the first check.
func (l *lease) setBase(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.base = ctx
}

// checkNow runs one check and waits for its answer, at most checkTimeout:
// a check that does not answer in time is unknown. It is how Start, RunOnce
// and confirm ask synchronously; concurrent callers share the synchronous
// check in flight. Deadlines are real time: they bound real I/O.
func (l *lease) checkNow(ctx context.Context) (*checkCall, error) {
	l.mu.Lock()
	c := l.gate
	if c != nil {
		select {
		case <-c.done: // answered already: ask again
			c, l.gate = nil, nil
		default:
		}
	}
	l.mu.Unlock()
	if c == nil {
		if c = l.start(); c == nil {
			return nil, fmt.Errorf("%d leadership checks have not returned: the source is stuck", maxChecks)
		}
		l.mu.Lock()
		select {
		case <-c.done: // answered already
		default:
			l.gate = c
		}
		l.mu.Unlock()
	}
	timer := time.NewTimer(l.o.checkTimeout)
	defer timer.Stop()
	select {
	case <-c.done:
		return c, c.err
	case <-timer.C:
		return c, fmt.Errorf("leadership check did not answer within %s", l.o.checkTimeout)
	case <-ctx.Done():
		return c, ctx.Err()
	}
}

// confirm is the gate in front of every downstream change a leader makes
// (a commit, a destroy, a free of a group it does not store). It returns
// the current term, registered as in flight (the caller must call release),
// if this replica leads on a confirmation younger than the lease and the
// term's handover is over (a fenced term waits until the previous holder
// has released or can no longer act: errHandover, a waiting error). A
// confirmation older than fresh() is first re-checked synchronously, so a
// process that was frozen, or whose renewals stopped, looks again before
// it acts. ErrNotLeader otherwise.
func (l *lease) confirm(ctx context.Context) (*term, error) {
	return l.confirmFor(ctx, true)
}

// confirmWrite is confirm for a store write: the same lease rule, but a
// fenced term may write (the store refuses a stale version, and what is
// stored is acted on only once the fence is lifted).
func (l *lease) confirmWrite(ctx context.Context) (*term, error) {
	return l.confirmFor(ctx, false)
}

func (l *lease) confirmFor(ctx context.Context, downstream bool) (*term, error) {
	t, stale, err := l.acquire(true, downstream)
	if t != nil || err != nil {
		return t, err
	}
	if !stale {
		return nil, ErrNotLeader
	}
	_, _ = l.checkNow(ctx) // its answer is applied to the lease
	if t, _, err = l.acquire(false, downstream); t != nil || err != nil {
		return t, err
	}
	return nil, ErrNotLeader
}

// acquire registers an in-flight change on the current term if this
// replica leads and its confirmation is valid (and, with needFresh, younger
// than fresh()). stale reports a leader whose confirmation is older than
// fresh() but may be renewed. With downstream, a fenced term answers
// errHandover.
func (l *lease) acquire(needFresh, downstream bool) (t *term, stale bool, err error) {
	l.notify.Lock() // no role change between the test and the Add
	defer l.notify.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.role != RoleLeader || l.cur == nil {
		return nil, false, nil
	}
	now := l.o.clock.Now()
	if !now.Before(l.validUntilLocked()) {
		return nil, true, nil
	}
	if needFresh && now.Sub(l.confirmed) >= l.fresh() {
		return nil, true, nil
	}
	if downstream && l.cur.fenced {
		return nil, false, errHandover
	}
	l.cur.inflight.Add(1)
	return l.cur, false, nil
}

// lift ends the handover fence of term t; it reports whether t is still
// the current term.
func (l *lease) lift(t *term) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t.fenced = false
	return l.cur == t
}

// fencedTerm reports whether t is still fenced.
func (l *lease) fencedTerm(t *term) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return t.fenced
}

// release ends an in-flight change registered by confirm.
func (t *term) release() { t.inflight.Done() }

// wait waits for the term's in-flight changes to return, at most d, and
// reports whether they all did.
func (t *term) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { t.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// view is a consistent read of the lease for planning, status and health.
type leaseView struct {
	Role       Role
	Term       uint64
	TermCtx    context.Context // nil unless leader
	Holder     string
	Confirmed  time.Duration // age of the confirmation; 0 if none
	LeaseLeft  time.Duration // time until it lapses; 0 if none
	Unknown    error         // the newest answer was unknown
	ChangedAgo time.Duration
}

// state names the lease for metrics and status: "held" (leading on a
// confirmation), "unknown" (leading, riding out unknown answers), "none"
// (following), "pending" (no answer since start).
func (v leaseView) state() string {
	switch {
	case v.Role == RoleLeader && v.Unknown != nil:
		return "unknown"
	case v.Role == RoleLeader:
		return "held"
	case v.Role == RoleFollower:
		return "none"
	}
	return "pending"
}

func (l *lease) view() leaseView {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.o.clock.Now()
	v := leaseView{Role: l.role, Term: l.terms, Holder: l.holder, Unknown: l.lastErr}
	if !l.changedAt.IsZero() {
		v.ChangedAgo = now.Sub(l.changedAt)
	}
	if l.cur != nil {
		v.TermCtx = l.cur.ctx
		v.Confirmed = now.Sub(l.confirmed)
		v.LeaseLeft = max(0, l.validUntilLocked().Sub(now))
	}
	return v
}

// current returns the current term, nil unless leader.
func (l *lease) current() *term {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// baseCtx is the parent of every term: done on Stop.
func (l *lease) baseCtx() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base
}
