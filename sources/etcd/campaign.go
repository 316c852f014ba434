package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// run campaigns until Close: one lease at a time, a new one after any loss
// (the old one revoked first), with a capped backoff between failed attempts.
func (l *Leadership) run() {
	defer close(l.done)
	defer l.setLost("shutting down")
	const minBackoff = 100 * time.Millisecond
	backoff := minBackoff
	for l.ctx.Err() == nil {
		began := time.Now()
		err := l.session(l.ctx)
		if l.ctx.Err() != nil {
			return
		}
		if time.Since(began) > l.opts.LeaseDuration {
			backoff = minBackoff
		}
		l.log.Error(err, "etcd session ended, campaigning again", "retryIn", backoff.String())
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, l.opts.LeaseDuration/2)
	}
}

// lost is why a session ended: reason is what Check reports as Status.Reason.
type lost struct {
	reason string
	err    error
}

func (e *lost) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}
func (e *lost) Unwrap() error { return e.err }

// session holds one lease: it grants it, renews it (the only renewer),
// campaigns with it and follows the election until the lease is lost, the
// election key is lost, the local deadline passes, or ctx is done. On the
// way out it stops leading first, then revokes the lease, retrying until
// etcd answers, so that another candidate can win at once.
func (l *Leadership) session(ctx context.Context) error {
	ttl := int64(l.opts.LeaseDuration / time.Second)
	sent := l.opts.Clock.Now()
	gctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), l.opts.CallTimeout)
	grant, err := l.cli.Grant(gctx, ttl)
	cancel()
	if err != nil {
		l.setLost(classify(err, "lease not granted"))
		return fmt.Errorf("grant lease from %s: %w", l.endpoints(), err)
	}
	l.setDeadline(sent, time.Duration(grant.TTL)*time.Second)
	sctx, scancel := context.WithCancel(ctx)
	errc := make(chan error, 2)
	kaDone := make(chan struct{})
	go func() { defer close(kaDone); l.keepAlive(sctx, grant.ID, errc) }()
	expired := make(chan error, 1)
	go l.watchdog(sctx, scancel, expired)
	err = l.campaign(sctx, grant.ID, errc)
	scancel()
	<-kaDone // the one renewer has stopped: nothing renews the lease any more
	select {
	case err = <-expired: // the deadline cut a call short: that is why
	default:
	}
	var why *lost
	reason := "session ended"
	if errors.As(err, &why) {
		reason = why.reason
	}
	l.setLost(reason)
	l.revoke(grant.ID)
	return err
}

// keepAlive renews the lease every 25th of the TTL (KeepAliveOnce,
// each call bounded by CallTimeout) and moves the local deadline from each
// answer's send time. It is the lease's only renewer. It reports on errc
// when the server says the lease is gone.
func (l *Leadership) keepAlive(ctx context.Context, id clientv3.LeaseID, errc chan<- error) {
	// Often: the local deadline is TTL − margin after the last answered
	// send, so a stall shorter than that minus one interval keeps the term.
	every := l.renewEvery()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		sent := l.opts.Clock.Now()
		kctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), l.opts.CallTimeout)
		r, err := l.cli.KeepAliveOnce(kctx, id)
		cancel()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && r.TTL <= 0):
			errc <- &lost{reason: "lease expired at the server", err: fmt.Errorf("lease %x", int64(id))}
			return
		case err != nil:
			if ctx.Err() == nil {
				l.renewFailed(err)
			}
		default:
			l.renewed(sent, time.Duration(r.TTL)*time.Second)
		}
	}
}

// renewEvery is the renewal interval: a 25th of the TTL, at least 50ms.
func (l *Leadership) renewEvery() time.Duration {
	return max(l.opts.LeaseDuration/25, 50*time.Millisecond)
}

// campaign puts this candidate's key (once per lease) and follows the
// election: a linearizable look at the first-created key after every watch
// event and at least every lookEvery, so a lagging watch stream delays
// nothing. The look that finds our key first is the win, at its revision.
func (l *Leadership) campaign(ctx context.Context, id clientv3.LeaseID, errc <-chan error) error {
	key := fmt.Sprintf("%s%x", l.keys.election(), int64(id))
	cctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), l.opts.CallTimeout)
	resp, err := l.cli.Txn(cctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, l.opts.Name, clientv3.WithLease(id))).
		Else(clientv3.OpGet(key)).Commit()
	cancel()
	if err != nil {
		return &lost{reason: classify(err, "campaign failed"), err: err}
	}
	mine := Fence{Key: key, Rev: resp.Header.Revision}
	if !resp.Succeeded {
		mine.Rev = resp.Responses[0].GetResponseRange().Kvs[0].CreateRevision
	}
	var wch clientv3.WatchChan
	wcancel := context.CancelFunc(func() {})
	defer func() { wcancel() }()
	tick := time.NewTicker(l.lookEvery())
	defer tick.Stop()
	for {
		rev, err := l.look(ctx, mine)
		if err != nil {
			return err
		}
		if wch == nil && rev > 0 {
			wch, wcancel = l.watchElection(ctx, rev+1)
		}
		if err := l.viewBehind(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return err
		case <-tick.C:
		case wr, ok := <-wch:
			if !ok || wr.Err() != nil {
				wcancel()
				wch = nil // watch again from the next look
				continue
			}
			for _, ev := range wr.Events {
				if ev.Type == mvccpb.DELETE && string(ev.Kv.Key) == mine.Key {
					return &lost{reason: "own election key deleted", err: fmt.Errorf("key %s", mine.Key)}
				}
			}
		}
	}
}

// watchdog ends the session (cancel) the moment the local lease deadline
// passes, whatever call is in flight, and says why on expired.
func (l *Leadership) watchdog(ctx context.Context, cancel context.CancelFunc, expired chan<- error) {
	t := time.NewTimer(l.deadlineIn())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if l.pastDeadline() {
			expired <- &lost{reason: l.renewalReason(), err: ErrLeaseExpired}
			cancel()
			return
		}
		t.Reset(l.deadlineIn())
	}
}

// watchElection watches the election prefix from rev until cancelled.
func (l *Leadership) watchElection(ctx context.Context, rev int64) (clientv3.WatchChan, context.CancelFunc) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	return l.cli.Watch(wctx, l.keys.election(), clientv3.WithPrefix(), clientv3.WithRev(rev)), cancel
}

// lookEvery is how often the election is read besides its watch events.
func (l *Leadership) lookEvery() time.Duration {
	return max(l.opts.LeaseDuration/10, 50*time.Millisecond)
}

// look reads the first-created key of the election (linearizable) and
// records what it says. It returns the read's revision, 0 when etcd did not
// answer (the deadline decides then), or an error when our key is gone.
func (l *Leadership) look(ctx context.Context, mine Fence) (int64, error) {
	gctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), l.opts.CallTimeout)
	r, err := l.cli.Get(gctx, l.keys.election(), clientv3.WithFirstCreate()...)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			l.log.V(1).Info("etcd election read failed", "error", err.Error())
		}
		return 0, nil
	}
	if len(r.Kvs) == 0 || r.Kvs[0].CreateRevision > mine.Rev {
		return 0, &lost{reason: "own election key deleted", err: fmt.Errorf("key %s", mine.Key)}
	}
	first := r.Kvs[0]
	leading := string(first.Key) == mine.Key && first.CreateRevision == mine.Rev
	l.observed(string(first.Value), leading, mine, r.Header.Revision)
	return r.Header.Revision, nil
}

// revoke ends the lease so the election key goes at once. It retries until
// etcd answers (a cluster that lost quorum would otherwise keep the key up
// to a TTL after it is back), and on Close makes one attempt bounded by
// CallTimeout.
func (l *Leadership) revoke(id clientv3.LeaseID) {
	for {
		ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(context.Background()), l.opts.CallTimeout)
		_, err := l.cli.Revoke(ctx, id)
		cancel()
		if err == nil || errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return
		}
		if l.ctx.Err() != nil {
			l.log.V(1).Info("etcd lease revoke failed; it expires by itself", "error", err.Error())
			return
		}
		select {
		case <-l.ctx.Done():
		case <-time.After(l.renewEvery()):
		}
	}
}

// classify names an etcd error for a log reason.
func classify(err error, fallback string) string {
	switch {
	case errors.Is(err, rpctypes.ErrNoLeader) || errors.Is(err, rpctypes.ErrGRPCNoLeader) ||
		rpctypes.ErrorDesc(err) == rpctypes.ErrNoLeader.Error():
		return "quorum lost"
	case errors.Is(err, context.DeadlineExceeded):
		return fallback + ": etcd did not answer in time"
	}
	return fallback
}
