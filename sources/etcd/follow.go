package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// follow lists the prefix, then watches it from the listing's revision,
// and lists again whenever the watch ends (compaction, a member cut off
// from the cluster, a broken stream), until ctx is done.
func (s *Store) follow(ctx context.Context) {
	defer close(s.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		rev, err := s.list(ctx)
		if err != nil {
			s.mu.Lock()
			s.lastErr = err
			s.mu.Unlock()
			s.log.Error(err, "etcd store listing failed, retrying", "retryIn", backoff.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		s.once.Do(func() { close(s.ready) })
		err = s.watch(ctx, rev+1)
		s.mu.Lock()
		s.relisting = true
		s.mu.Unlock()
		if ctx.Err() == nil {
			s.log.Info("etcd store watch ended, listing again", "error", errString(err))
		}
	}
}

// list reads every key under <prefix>/groups/ at one revision and replaces
// the cache, keeping entries this Store wrote after that revision.
func (s *Store) list(ctx context.Context) (int64, error) {
	// the listing carries every group (about 2 MB at 10,000): 5 call timeouts
	lctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), 5*s.opts.CallTimeout)
	defer cancel()
	resp, err := s.cli.Get(lctx, s.keys.groups(), clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("list %s from %s: %w", s.keys.groups(), strings.Join(s.cli.Endpoints(), ","), err)
	}
	next := newCache()
	for _, kv := range resp.Kvs {
		next.apply(s.keys, string(kv.Key), kv.Value, true, kv.ModRevision, s.opts.MaxEntryBytes, s.logBad)
	}
	at := resp.Header.Revision
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, g := range s.c.groups {
		if g.modRev > at {
			next.groups[id] = g
		}
	}
	next.keepDestroying(s.c, at)
	next.keepGone(s.c, at)
	if s.c.metaRev > at {
		next.metaRev = s.c.metaRev
	}
	next.rev = max(next.rev, s.c.rev)
	next.seen = at
	s.c, s.lastErr, s.listed, s.relisting = next, nil, true, false
	if s.wake != nil && s.want <= at {
		go s.wake() // never under s.mu
	}
	return at, nil
}

// watch applies events from rev on until the watch ends; it returns why.
func (s *Store) watch(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	s.mu.Lock()
	s.watchCancel = cancel
	s.mu.Unlock()
	wch := s.cli.Watch(wctx, s.keys.groups(), clientv3.WithPrefix(), clientv3.WithRev(rev))
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return err // compacted, or the member lost its cluster: list again
		}
		if len(wr.Events) == 0 {
			continue
		}
		s.mu.Lock()
		for _, ev := range wr.Events {
			s.c.applyEvent(s.keys, ev, s.opts.MaxEntryBytes, s.logBad)
		}
		// events come in revision order, every revision whole: the cache
		// now holds every write up to the last one
		s.c.advance(wr.Events[len(wr.Events)-1].Kv.ModRevision)
		s.mu.Unlock()
	}
	if ctx.Err() == nil && wctx.Err() != nil {
		return errors.New("restarted to catch up")
	}
	return ctx.Err()
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}
