package lease

import "context"

// SendGate is the lease's gate asked again by the downstream client at the
// last moment before a change's request is written (plugin.WithSendGate):
// nil while t is the current term and its confirmation is younger than
// fresh(); a staler one is re-checked synchronously first, as Confirm does.
// A process frozen after Confirm let a change through thus looks again on
// waking, before the request leaves; what stays is the freeze between this
// check and the write itself.
func (l *Lease) SendGate(t *Term) func(context.Context) error {
	return func(ctx context.Context) error {
		if ok, stale := l.holds(t, true); ok || !stale {
			if !ok {
				return ErrNotLeader
			}
			return nil
		}
		_, _ = l.checkNow(ctx) // its answer is applied to the lease
		if ok, _ := l.holds(t, false); !ok {
			return ErrNotLeader
		}
		return nil
	}
}

// holds reports whether t is the current term on a valid confirmation
// (with needFresh, one younger than fresh()); stale reports a current term
// whose confirmation is older than that but may be renewed.
func (l *Lease) holds(t *Term, needFresh bool) (ok, stale bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.role != RoleLeader || l.cur != t || t.ctx.Err() != nil {
		return false, false
	}
	now := l.o.Clock.Now()
	if !now.Before(l.validUntilLocked()) || needFresh && now.Sub(l.confirmed) >= l.fresh() {
		return false, true
	}
	return true, false
}
