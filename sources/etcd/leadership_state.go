package etcd

import (
	"strings"
	"time"
)

// renewed records an answered renewal sent at sent: it extends the local
// deadline to sent+ttl−margin.
func (l *Leadership) renewed(sent time.Time, ttl time.Duration) {
	l.setDeadline(sent, ttl)
	l.mu.Lock()
	l.renewErr = nil
	l.mu.Unlock()
}

// renewFailed records a renewal that got no answer (logged once per run of
// failures).
func (l *Leadership) renewFailed(err error) {
	l.mu.Lock()
	first := l.renewErr == nil
	l.renewErr = err
	l.mu.Unlock()
	if first {
		l.log.Error(err, "etcd lease renewal failed, retrying", "reason", classify(err, "renewal timed out"))
	}
}

// renewalReason says why renewals stopped: quorum lost or timed out.
func (l *Leadership) renewalReason() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renewalReasonLocked()
}

func (l *Leadership) renewalReasonLocked() string {
	if l.renewErr == nil {
		return "renewal timed out"
	}
	return classify(l.renewErr, "renewal timed out")
}

// setDeadline extends the local deadline to sent+ttl−margin (never shortens
// it: an older answer arriving late must not move it back).
func (l *Leadership) setDeadline(sent time.Time, ttl time.Duration) {
	d := sent.Add(ttl - l.opts.SafetyMargin)
	l.mu.Lock()
	defer l.mu.Unlock()
	if d.After(l.deadline) {
		l.deadline = d
	}
}

// setLost drops leadership and the lease deadline; reason is what Check
// answers as Status.Reason until the next lease.
func (l *Leadership) setLost(reason string) {
	l.mu.Lock()
	was := l.leading || !l.deadline.IsZero()
	wasLeading := l.leading
	l.leading, l.fence, l.winRev, l.holder, l.deadline = false, Fence{}, 0, "", time.Time{}
	l.reason, l.renewErr, l.behindSince = reason, nil, time.Time{}
	l.mu.Unlock()
	if wasLeading {
		l.log.Info("etcd leadership lost", "reason", reason)
	}
	if was {
		l.changed()
	}
}

// observed records the election's current leader key and value; leading is
// whether that key is ours (mine), found first by a read at rev.
func (l *Leadership) observed(holder string, leading bool, mine Fence, rev int64) {
	l.mu.Lock()
	changed := l.leading != leading || l.holder != holder
	if leading && !l.leading {
		l.winRev = rev
		l.log.V(1).Info("etcd campaign won", "key", mine.Key, "rev", rev)
	}
	l.holder, l.leading = holder, leading
	if leading {
		l.fence = mine
	} else {
		l.fence, l.winRev = Fence{}, 0
	}
	l.mu.Unlock()
	l.markKnown()
	if changed {
		l.log.Info("etcd leadership", "leader", leading, "holder", holder)
		l.changed()
	}
}

// viewBehind ends the session of a leader whose view has not been current
// for longer than the lease (a watch that keeps re-listing or lags).
func (l *Leadership) viewBehind() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leading || l.view == nil || l.view.Current(l.winRev, l.changed) {
		l.behindSince = time.Time{}
		return nil
	}
	now := l.opts.Clock.Now()
	if l.behindSince.IsZero() {
		l.behindSince = now
		return nil
	}
	if bound := l.opts.LeaseDuration - l.opts.SafetyMargin; now.Sub(l.behindSince) >= bound {
		return &lost{reason: "store view behind etcd for longer than the lease", err: ErrViewBehind}
	}
	return nil
}

// endpoints names the members this client talks to, for errors.
func (l *Leadership) endpoints() string { return strings.Join(l.cli.Endpoints(), ",") }

// deadlineIn is how long until the lease deadline (0 when it passed, an
// hour without a lease).
func (l *Leadership) deadlineIn() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.deadline.IsZero() {
		return time.Hour
	}
	return max(0, l.deadline.Sub(l.opts.Clock.Now()))
}

// pastDeadline reports whether the lease deadline has passed.
func (l *Leadership) pastDeadline() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.deadline.IsZero() && !l.opts.Clock.Now().Before(l.deadline)
}
