package sim

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// errUnknown is a leadership source's "I cannot tell".
var errUnknown = errors.New("sim: leadership source unreadable")

// authority decides who leads, like an election: a manager the schedule
// wants to lead is granted leadership only once every other manager's last
// leader answer is older than the lease.
type authority struct {
	clock clock.PassiveClock
	lease time.Duration
	rec   *recorder

	mu     sync.Mutex
	want   string // who should lead next; "" nobody
	holder string
	last   map[string]time.Time // each manager's last leader answer
	srcs   []*source
}

func newAuthority(c clock.PassiveClock, lease time.Duration, rec *recorder) *authority {
	return &authority{clock: c, lease: lease, rec: rec, last: map[string]time.Time{}}
}

// setWant names who should lead ("" nobody) and pokes every source.
func (a *authority) setWant(name string) {
	a.mu.Lock()
	a.want = name
	if a.holder != name {
		a.holder = ""
	}
	srcs := a.srcs
	a.mu.Unlock()
	for _, s := range srcs {
		s.poke()
	}
}

// wanted returns who should lead.
func (a *authority) wanted() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.want
}

// answer is the authority's answer to name now.
func (a *authority) answer(name string) sources.Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.clock.Now()
	if a.holder == "" && a.want != "" {
		free := true
		for m, t := range a.last {
			if m != a.want && now.Sub(t) < a.lease {
				free = false
			}
		}
		if free {
			a.holder = a.want
		}
	}
	if a.holder == name {
		a.last[name] = now
		a.rec.hold(name)
		return sources.Status{Leader: true, Holder: name}
	}
	return sources.Status{Holder: a.holder}
}

// source is one manager's leadership source: the authority's answer,
// unless a fault makes it unknown or hang.
type source struct {
	a    *authority
	name string

	mu    sync.Mutex
	fault string // "", "unknown", "hang"
	watch sourcestest.Watchers
}

var _ sources.Leadership = (*source)(nil)

func (a *authority) source(name string) *source {
	s := &source{a: a, name: name}
	a.mu.Lock()
	a.srcs = append(a.srcs, s)
	a.mu.Unlock()
	return s
}

func (s *source) setFault(f string) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
	s.poke()
}

// Check answers leader, not leader, unknown (an error) or hangs until ctx ends.
func (s *source) Check(ctx context.Context) (sources.Status, error) {
	if err := ctx.Err(); err != nil {
		return sources.Status{}, err
	}
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	switch f {
	case "unknown":
		return sources.Status{}, errUnknown
	case "hang":
		<-ctx.Done()
		return sources.Status{}, ctx.Err()
	}
	return s.a.answer(s.name), nil
}

// Watch pokes at once and whenever the authority or a fault changes.
func (s *source) Watch(ctx context.Context, poke func()) error { return s.watch.Watch(ctx, poke) }

func (s *source) poke() { s.watch.Poke() }
