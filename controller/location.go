package controller

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/sources"
)

// locator keeps the leader's location: as leader it publishes this
// replica's advertised URL (replacing what a former leader left); as a
// follower it reads what the leader published, and clears its own on
// stepping down. Manager.LeaderLocation, Status and the forwarding layer
// answer from what it holds, without waiting on the store.
type locator struct {
	store     sources.LocationStore // nil: nothing published, the holder's name only
	advertise string                // this replica's URL; "" publishes nothing
	lease     *lease
	clock     clock.WithTicker
	every     time.Duration
	timeout   time.Duration
	log       logr.Logger

	mu        sync.Mutex
	seen      sources.Location // last read or published
	published string           // the holder this replica published as, "" if none
}

// run refreshes until ctx is done, then clears this replica's location if
// it published one (a clean stop hands over at once).
func (l *locator) run(ctx context.Context) {
	if l.store == nil {
		return
	}
	t := l.clock.NewTicker(l.every)
	defer t.Stop()
	for {
		l.refresh(ctx)
		select {
		case <-ctx.Done():
			l.clearOwn(context.Background())
			return
		case <-t.C():
		}
	}
}

// refresh publishes (leader) or reads (anyone else) once.
func (l *locator) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	v := l.lease.view()
	cur, err := l.store.Load(ctx)
	if err != nil {
		l.log.V(1).Info("leader location unreadable", "error", err.Error())
		cur = sources.Location{}
	}
	if v.Role == RoleLeader && l.advertise != "" && v.Holder != "" {
		mine := sources.Location{Holder: v.Holder, URL: l.advertise}
		if cur != mine || err != nil {
			if perr := l.store.Publish(ctx, mine); perr != nil {
				l.log.Error(perr, "publish leader location failed", "leader", l.advertise)
			} else {
				l.log.Info("published leader location", "leader", l.advertise, "term", v.Term)
			}
		}
		l.set(mine, v.Holder)
		return
	}
	if v.Role != RoleLeader {
		l.clearOwn(ctx)
	}
	l.set(cur, "")
}

func (l *locator) set(loc sources.Location, publishedAs string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = loc
	if publishedAs != "" {
		l.published = publishedAs
	}
}

// clearOwn removes the location this replica published, if it still names
// it; a successor's is left alone. A Clear that fails is tried again at the
// next refresh (the entry is kept until one succeeds).
func (l *locator) clearOwn(ctx context.Context) {
	l.mu.Lock()
	holder := l.published
	l.mu.Unlock()
	if holder == "" {
		return
	}
	if err := l.store.Clear(ctx, holder); err != nil {
		l.log.Error(err, "clear leader location failed, retrying at the next refresh", "leader", l.advertise)
		return
	}
	l.mu.Lock()
	if l.published == holder { // not published again meanwhile
		l.published = ""
	}
	l.mu.Unlock()
	l.log.Info("cleared own leader location", "leader", l.advertise)
}

// location is where the leader is: the published URL when it names the
// current holder (or the source does not name one), this replica's own URL when it leads, else
// infrakit://<holder> (the holder's name only), nil when nobody is known to
// lead.
func (l *locator) location(v leaseView) *url.URL {
	if v.Role == RoleUnknown {
		return nil
	}
	if v.Role == RoleLeader && l.advertise != "" {
		if u, err := url.Parse(l.advertise); err == nil {
			return u
		}
	}
	l.mu.Lock()
	seen := l.seen
	l.mu.Unlock()
	// The holder must match, when the source names it (os: the leader
	// file; etcd: the election value). A source that does not name the
	// leader to followers (swarm) takes the published location as is: a
	// stale one answers not-a-leader or nothing, and the next leader
	// replaces it within a renew interval of its gain.
	if seen.URL != "" && seen.Holder != "" && (seen.Holder == v.Holder || v.Holder == "") {
		if u, err := url.Parse(seen.URL); err == nil {
			return u
		}
	}
	if v.Holder == "" {
		return nil
	}
	return &url.URL{Scheme: "infrakit", Host: v.Holder}
}
