package etcd

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Current reports whether the cache holds every write under
// <prefix>/groups/ up to rev and is not re-listing. If not, it brings the
// cache there in the background and calls wake once it has: a linearizable
// count of the keys (all of them, and those changed since the cache's
// revision) tells whether the cache already holds that state; otherwise the
// watch is restarted and the prefix listed again, at a revision past rev.
// A lagging watch stream therefore never leaves a new leader on an old view,
// and a progress notification (which etcd 3.4 may send ahead of pending
// events) is not trusted.
func (s *Store) Current(rev int64, wake func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.relisting && s.listed && s.c.seen >= rev {
		return true
	}
	s.want = max(s.want, rev)
	s.wake = wake
	select {
	case s.catchUp <- struct{}{}:
	default:
	}
	return false
}

// catchUpLoop serves Current's requests until ctx is done.
func (s *Store) catchUpLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.catchUp:
		}
		s.reach(ctx)
	}
}

// reach brings the cache to s.want (see Current), then calls the wake
// function.
func (s *Store) reach(ctx context.Context) {
	var forced time.Time // when this call last restarted the watch
	for ctx.Err() == nil {
		s.mu.Lock()
		want, seen, busy, wake := s.want, s.c.seen, s.relisting || !s.listed, s.wake
		s.mu.Unlock()
		if !busy && seen >= want {
			if wake != nil {
				wake()
			}
			return
		}
		if !busy && time.Since(forced) > time.Second {
			current, err := s.countCheck(ctx, seen)
			switch {
			case err != nil:
				s.log.V(1).Info("etcd store view check failed, retrying", "error", err.Error())
			case !current:
				s.log.Info("etcd store view behind, listing again", "cachedRev", seen, "want", want)
				s.relist()
				forced = time.Now()
			}
			if err == nil {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// countCheck asks etcd, in one linearizable read, how many keys the groups
// prefix holds and how many changed after seen. The cache holds the state
// of that read when none changed and the counts agree; the read's revision
// is then the cache's.
func (s *Store) countCheck(ctx context.Context, seen int64) (bool, error) {
	cctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), s.opts.CallTimeout)
	defer cancel()
	p := s.keys.groups()
	resp, err := s.cli.Txn(cctx).Then(
		clientv3.OpGet(p, clientv3.WithPrefix(), clientv3.WithCountOnly()),
		clientv3.OpGet(p, clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithMinModRev(seen+1)),
	).Commit()
	if err != nil {
		return false, err
	}
	all, changed := resp.Responses[0].GetResponseRange().Count, resp.Responses[1].GetResponseRange().Count
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relisting || changed != 0 || all != int64(s.c.keyCount()) {
		return false, nil
	}
	s.c.advance(resp.Header.Revision)
	return true, nil
}

// relist ends the current watch: follow lists the prefix again (a
// linearizable read) and watches on from there.
func (s *Store) relist() {
	s.mu.Lock()
	cancel := s.watchCancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}
