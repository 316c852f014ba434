package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/sources"
)

// maxChecks bounds the leadership checks running at once, abandoned ones
// (a check stuck past its deadline in an uninterruptible read) included. A
// few in flight let a later check answer while an earlier one hangs; when
// all are stuck no more are started and the lease runs out.
const maxChecks = 4

// Change is one role change, for the lease's onChange callback.
type Change struct {
	Role   Role
	Term   *Term // the new term when gaining, the ended one when losing
	Reason string
}

// Lease turns a three-answer leadership source into a role with a lease:
// a confirmation (a check that said "leader") is good for the lease
// duration on the monotonic clock, or until the source's own expiry if
// earlier. An unknown answer keeps the role until the confirmation lapses;
// "not leader" ends it at once. Checks run on a renewal ticker and on every
// poke from the source, each with a deadline, up to maxChecks at once; the
// newest answer wins and a stuck check never delays the next.
//
// Before every downstream change the reconciler calls Confirm, which
// re-checks synchronously when the last confirmation is older than one
// renewal interval (a frozen process, a failing source) and allows the
// change only while a confirmation younger than the lease stands.
type Lease struct {
	src      sources.Leadership
	o        Options
	onChange func(Change)

	// notify serialises role changes and their callbacks, so they are seen
	// in order. Lock order: notify, then mu.
	notify sync.Mutex

	mu        sync.Mutex
	base      context.Context // parent of every term context
	role      Role
	cur       *Term // the current term while leader
	terms     uint64
	started   time.Time // when the lease began: RoleUnknown lasts at most duration
	confirmed time.Time // start of the newest check that said leader
	expires   time.Time // the source's own expiry of that confirmation
	holder    string
	lastErr   error     // the newest answer was unknown: why
	errSince  time.Time // since when answers are unknown
	changedAt time.Time // last role change
	seq       uint64    // checks started
	applied   uint64    // the newest check whose answer was applied
	running   int       // checks not yet returned
	gate      *checkCall
	lastLog   string // last unknown-answer text logged
}

// checkCall is one leadership check.
type checkCall struct {
	seq   uint64
	start time.Time
	done  chan struct{}
	st    sources.Status
	err   error
}

// New builds a lease over src; onChange is called, in order, for every
// role change. It checks nothing until Run, CheckNow or Confirm. o must
// pass Validate.
func New(src sources.Leadership, o Options, onChange func(Change)) *Lease {
	return &Lease{src: src, o: o, onChange: onChange, base: context.Background(), started: o.Clock.Now()}
}

// fresh is the age under which a confirmation is acted on without a
// re-check: one renewal interval (the renewal ticker starts a check that
// often, so a live leader rarely waits), at most the lease. This is the gate
// window of os and swarm mode, whose writes are not fenced: a change is
// made only if a check that began at most this long before it said
// "leader". Shorter would mean a synchronous check before most changes.
func (l *Lease) fresh() time.Duration {
	return min(l.o.RenewInterval, l.o.Duration)
}

// validUntilLocked is when the current confirmation lapses.
func (l *Lease) validUntilLocked() time.Time {
	until := l.confirmed.Add(l.o.Duration)
	if !l.expires.IsZero() && l.expires.Before(until) {
		until = l.expires
	}
	return until
}

// start begins a check unless maxChecks are running; it returns nil then.
func (l *Lease) start() *checkCall {
	l.mu.Lock()
	if l.running >= maxChecks {
		l.mu.Unlock()
		return nil
	}
	l.running++
	l.seq++
	c := &checkCall{seq: l.seq, start: l.o.Clock.Now(), done: make(chan struct{})}
	base := l.base
	l.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(base, l.o.CheckTimeout)
		st, err := l.src.Check(ctx)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // an answer after the deadline is not trusted
		}
		cancel()
		if err != nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("leadership check did not answer within %s: %w", l.o.CheckTimeout, err)
		}
		c.st, c.err = st, err
		if base.Err() == nil {
			l.apply(c)
		}
		l.mu.Lock()
		l.running--
		if l.gate == c {
			l.gate = nil // answered: later callers start a new check
		}
		l.mu.Unlock()
		close(c.done)
	}()
	return c
}

// apply records the answer of check c unless a newer answer was applied,
// and changes the role if the answer calls for it.
func (l *Lease) apply(c *checkCall) {
	l.notify.Lock()
	defer l.notify.Unlock()
	l.mu.Lock()
	if c.seq < l.applied {
		l.mu.Unlock()
		return // a newer check has answered already
	}
	l.applied = c.seq
	now := l.o.Clock.Now()
	var ch *Change
	switch {
	case c.err != nil:
		if l.lastErr == nil {
			l.errSince = now
		}
		l.lastErr = c.err
		ch = l.expireLocked(now)
		l.logUnknownLocked(c.err, now)
	case c.st.Leader:
		l.recoveredLocked()
		if c.start.After(l.confirmed) {
			l.confirmed, l.expires = c.start, c.st.Expires
		}
		l.holder = c.st.Holder
		if l.role != RoleLeader && now.Before(l.validUntilLocked()) {
			ch = l.gainLocked(now)
		}
	default:
		l.recoveredLocked()
		l.holder = c.st.Holder
		if l.role != RoleFollower {
			reason := "another replica leads"
			switch {
			case l.holder != "":
				reason = fmt.Sprintf("%s leads", l.holder)
			case c.st.Reason != "":
				reason = c.st.Reason
			}
			ch = l.loseLocked(now, reason)
		}
	}
	l.mu.Unlock()
	if ch != nil {
		l.onChange(*ch)
	}
}

// tick ends a role whose lease has lapsed, whether or not any check
// answers: a stuck source must not keep a leader leading.
func (l *Lease) tick() {
	l.notify.Lock()
	defer l.notify.Unlock()
	l.mu.Lock()
	ch := l.expireLocked(l.o.Clock.Now())
	l.mu.Unlock()
	if ch != nil {
		l.onChange(*ch)
	}
}

// expireLocked steps down a leader whose confirmation lapsed, and makes a
// replica that never got an answer a follower after the lease duration.
func (l *Lease) expireLocked(now time.Time) *Change {
	switch {
	case l.role == RoleLeader && !now.Before(l.validUntilLocked()):
		why := "leadership unknown for longer than the lease"
		if l.lastErr != nil {
			why = fmt.Sprintf("%s (%s): %v", why, l.o.Duration, l.lastErr)
		}
		return l.loseLocked(now, why)
	case l.role == RoleUnknown && now.Sub(l.started) >= l.o.Duration:
		return l.loseLocked(now, fmt.Sprintf("no leadership answer within the lease (%s) since start", l.o.Duration))
	}
	return nil
}

func (l *Lease) gainLocked(now time.Time) *Change {
	l.terms++
	ctx, cancel := context.WithCancel(l.base)
	t := &Term{id: l.terms, ctx: ctx, cancel: cancel, gained: now, fenced: l.o.Fenced}
	l.role, l.cur, l.changedAt = RoleLeader, t, now
	return &Change{Role: RoleLeader, Term: t, Reason: "leadership confirmed"}
}

func (l *Lease) loseLocked(now time.Time, reason string) *Change {
	old := l.cur
	if old != nil {
		old.cancel()
	}
	l.role, l.cur, l.changedAt = RoleFollower, nil, now
	l.confirmed, l.expires = time.Time{}, time.Time{}
	return &Change{Role: RoleFollower, Term: old, Reason: reason}
}

func (l *Lease) recoveredLocked() {
	if l.lastErr != nil {
		l.o.Log.Info("leadership known again", "unknownFor", l.o.Clock.Since(l.errSince).Round(time.Millisecond).String())
	}
	l.lastErr, l.lastLog = nil, ""
}

// logUnknownLocked logs an unknown answer once per distinct error text.
func (l *Lease) logUnknownLocked(err error, now time.Time) {
	if err.Error() == l.lastLog {
		return
	}
	l.lastLog = err.Error()
	switch l.role {
	case RoleLeader:
		l.o.Log.Error(err, "leadership unknown, holding the role until the lease runs out",
			"leaseLeft", l.validUntilLocked().Sub(now).Round(time.Millisecond).String())
	default:
		l.o.Log.Error(err, "leadership unknown", "role", l.role.String())
	}
}
