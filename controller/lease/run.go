package lease

import (
	"context"
	"fmt"
	"time"
)

// Run renews the lease until ctx is done: a check at every renewal tick and
// at every poke (coalesced), and the expiry rule at every tick; onTick, if
// not nil, runs after every tick (metrics, a heartbeat). It returns
// once ctx is done; checks still running are abandoned (each has its own
// deadline and its answer is dropped).
func (l *Lease) Run(ctx context.Context, poke <-chan struct{}, onTick func()) {
	ticker := l.o.Clock.NewTicker(l.o.RenewInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			l.tick()
			l.start()
			if onTick != nil {
				onTick()
			}
		case <-poke:
			l.start()
		}
	}
}

// SetBase makes ctx the parent of every term context and of every check;
// Stop cancels it. Called once before the first check.
func (l *Lease) SetBase(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.base = ctx
}

// CheckNow runs one check and waits for its answer, at most CheckTimeout:
// a check that does not answer in time is unknown. It is how a daemon's
// start and a single pass ask synchronously; concurrent callers share the
// synchronous check in flight. Deadlines are real time: they bound real
// I/O. The answer is applied to the lease; the error says why it is
// unknown.
func (l *Lease) CheckNow(ctx context.Context) error {
	_, err := l.checkNow(ctx)
	return err
}

// Recheck starts a check without waiting for it (a store that says
// another replica leads: look now). At most maxChecks run at once; beyond
// that it does nothing.
func (l *Lease) Recheck() { l.start() }

func (l *Lease) checkNow(ctx context.Context) (*checkCall, error) {
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
	timer := time.NewTimer(l.o.CheckTimeout)
	defer timer.Stop()
	select {
	case <-c.done:
		return c, c.err
	case <-timer.C:
		return c, fmt.Errorf("leadership check did not answer within %s", l.o.CheckTimeout)
	case <-ctx.Done():
		return c, ctx.Err()
	}
}

// Confirm is the gate in front of every downstream change a leader makes
// (a commit, a destroy, a free of a group it does not store). It returns
// the current term, registered as in flight (the caller must call Release),
// if this replica leads on a confirmation younger than the lease and the
// term's handover is over (a fenced term waits until the previous holder
// has released or can no longer act: ErrFenced, a waiting error). A
// confirmation older than fresh() is first re-checked synchronously, so a
// process that was frozen, or whose renewals stopped, looks again before
// it acts. ErrNotLeader otherwise.
func (l *Lease) Confirm(ctx context.Context) (*Term, error) {
	return l.confirmFor(ctx, true)
}

// ConfirmWrite is Confirm for a store write: the same lease rule, but a
// fenced term may write (the store refuses a stale version, and what is
// stored is acted on only once the fence is lifted).
func (l *Lease) ConfirmWrite(ctx context.Context) (*Term, error) {
	return l.confirmFor(ctx, false)
}

func (l *Lease) confirmFor(ctx context.Context, downstream bool) (*Term, error) {
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
// ErrFenced.
func (l *Lease) acquire(needFresh, downstream bool) (t *Term, stale bool, err error) {
	l.notify.Lock() // no role change between the test and the Add
	defer l.notify.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.role != RoleLeader || l.cur == nil {
		return nil, false, nil
	}
	now := l.o.Clock.Now()
	if !now.Before(l.validUntilLocked()) {
		return nil, true, nil
	}
	if needFresh && now.Sub(l.confirmed) >= l.fresh() {
		return nil, true, nil
	}
	if downstream && l.cur.fenced {
		return nil, false, ErrFenced
	}
	l.cur.inflight.Add(1)
	return l.cur, false, nil
}

// Lift ends the handover fence of term t; it reports whether t is still
// the current term.
func (l *Lease) Lift(t *Term) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t.fenced = false
	return l.cur == t
}

// Fenced reports whether t is still fenced.
func (l *Lease) Fenced(t *Term) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return t.fenced
}
