package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// run campaigns until Close: one session (lease) at a time, a new one after
// any loss, with a capped backoff between failed attempts.
func (l *Leadership) run() {
	defer close(l.done)
	defer l.setLost()
	const minBackoff = 100 * time.Millisecond
	backoff := minBackoff
	for l.ctx.Err() == nil {
		began := time.Now()
		err := l.session(l.ctx)
		l.setLost()
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

// session holds one lease: it grants it, renews it, campaigns with it and
// follows the election until the lease is lost, the election key is lost,
// or ctx is done. It always returns an error saying why it ended, and
// revokes the lease (best effort) on the way out.
func (l *Leadership) session(ctx context.Context) error {
	ttl := int64(l.opts.LeaseDuration / time.Second)
	sent := l.opts.Clock.Now()
	gctx, cancel := context.WithTimeout(ctx, l.opts.CallTimeout)
	grant, err := l.cli.Grant(gctx, ttl)
	cancel()
	if err != nil {
		return fmt.Errorf("grant lease: %w", err)
	}
	l.setDeadline(sent, time.Duration(grant.TTL)*time.Second)
	defer func() {
		// Stop leading before the lease goes: once it is revoked another
		// candidate may lead at once.
		l.setLost()
		l.revoke(grant.ID)
	}()

	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	sess, err := concurrency.NewSession(l.cli, concurrency.WithLease(grant.ID),
		concurrency.WithTTL(int(ttl)), concurrency.WithContext(sctx))
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	defer sess.Orphan()
	el := concurrency.NewElection(sess, l.keys.election())

	errc := make(chan error, 2)
	go l.keepAlive(sctx, grant.ID, errc)
	won := make(chan Fence, 1)
	go func() {
		// WithRequireLeader: a member cut off from its cluster fails the
		// call instead of hanging.
		if err := el.Campaign(clientv3.WithRequireLeader(sctx), l.opts.Name); err != nil {
			errc <- fmt.Errorf("campaign: %w", err)
			return
		}
		won <- Fence{Key: el.Key(), Rev: el.Rev()}
	}()
	obs := el.Observe(clientv3.WithRequireLeader(sctx))

	var (
		mine Fence            // set once the campaign is won
		last *mvccpb.KeyValue // the latest observed leader key
	)
	// judge records what mine and last say; false: our key is gone.
	judge := func() bool {
		if last == nil {
			return true
		}
		switch {
		case mine.Key == "":
			l.observed(string(last.Value), false, Fence{})
		case string(last.Key) == mine.Key && last.CreateRevision == mine.Rev:
			l.observed(string(last.Value), true, mine)
		case last.CreateRevision < mine.Rev:
			// an observation of a leader the campaign already saw go;
			// the observer reports our key next
			l.observed(string(last.Value), false, Fence{})
		default:
			l.observed(string(last.Value), false, Fence{})
			return false
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sess.Done():
			return errors.New("session lease no longer renewed")
		case err := <-errc:
			return err
		case f := <-won:
			mine = f
			l.log.V(1).Info("etcd campaign won", "key", f.Key, "rev", f.Rev)
		case r, ok := <-obs:
			if !ok {
				return errors.New("election observer stopped")
			}
			last = r.Kvs[0]
		}
		if !judge() {
			return fmt.Errorf("own election key %s is gone, %s leads", mine.Key, last.Key)
		}
	}
}

// keepAlive renews the lease every fifth of the TTL (sooner after a failed
// renewal) and moves the local deadline from each answer's send time. It
// reports on errc when the server says the lease is gone.
func (l *Leadership) keepAlive(ctx context.Context, id clientv3.LeaseID, errc chan<- error) {
	// A fifth of the TTL: the local deadline is TTL - TTL/5 after the last
	// answer, so at least three renewals fit in it, and an etcd election
	// (its Raft leader killed: about 2 s here) that fails one or two of
	// them does not end the term.
	every := l.opts.LeaseDuration / 5
	retry := min(every, 250*time.Millisecond)
	wait := every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		sent := l.opts.Clock.Now()
		kctx, cancel := context.WithTimeout(ctx, l.opts.CallTimeout)
		r, err := l.cli.KeepAliveOnce(kctx, id)
		cancel()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound) || (err == nil && r.TTL <= 0):
			errc <- fmt.Errorf("lease %x expired at the server", int64(id))
			return
		case err != nil:
			if ctx.Err() == nil {
				l.log.V(1).Info("etcd lease renewal failed, retrying", "error", err.Error())
			}
			wait = retry
		default:
			l.setDeadline(sent, time.Duration(r.TTL)*time.Second)
			wait = every
		}
	}
}

// revoke ends the lease so the election key goes at once (best effort: an
// unreachable cluster expires it after the TTL anyway).
func (l *Leadership) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.CallTimeout)
	defer cancel()
	if _, err := l.cli.Revoke(ctx, id); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		l.log.V(1).Info("etcd lease revoke failed; it expires by itself", "error", err.Error())
	}
}
