package lease

import (
	"context"
	"time"
)

// View is a consistent read of the lease for planning, status and health.
type View struct {
	Role       Role
	Term       uint64
	TermCtx    context.Context // nil unless leader
	Holder     string
	Confirmed  time.Duration // age of the confirmation; 0 if none
	LeaseLeft  time.Duration // time until it lapses; 0 if none
	Unknown    error         // the newest answer was unknown
	ChangedAgo time.Duration
}

// State names the lease for metrics and status: "held" (leading on a
// confirmation), "unknown" (leading, riding out unknown answers), "none"
// (following), "pending" (no answer since start).
func (v View) State() string {
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

// View returns the lease as it stands now.
func (l *Lease) View() View {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.o.Clock.Now()
	v := View{Role: l.role, Term: l.terms, Holder: l.holder, Unknown: l.lastErr}
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

// Current returns the current term, nil unless leader.
func (l *Lease) Current() *Term {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// Base is the parent of every term: done on Stop.
func (l *Lease) Base() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base
}
