package sourcestest

import (
	"context"
	"sync"

	"github.com/infrakit-manager/manager/sources"
)

// StaticLeadership is a sources.Leadership that tests flip by hand. While an
// error is set, Check returns it (unknown); while hung, Check blocks until
// its context ends, like a FIFO or a hung engine would without deadlines.
// Every change pokes the watchers.
type StaticLeadership struct {
	mu       sync.Mutex
	status   sources.Status
	err      error
	hang     bool
	checks   int
	watchers Watchers
}

var _ sources.Leadership = (*StaticLeadership)(nil)

// NewStaticLeadership returns a fake reporting leader or not.
func NewStaticLeadership(leader bool) *StaticLeadership {
	return &StaticLeadership{status: sources.Status{Leader: leader}}
}

// Set changes the status, clears any error, and pokes the watchers.
func (s *StaticLeadership) Set(leader bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Leader, s.err = leader, nil
	s.notifyLocked()
}

// SetStatus sets the whole status (holder, expiry), clears any error, and
// pokes the watchers.
func (s *StaticLeadership) SetStatus(st sources.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.err = st, nil
	s.notifyLocked()
}

// SetError makes the status unknown (nil clears it) and pokes the watchers.
func (s *StaticLeadership) SetError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	s.notifyLocked()
}

// SetHang makes Check block until its context ends (true) or answer again.
func (s *StaticLeadership) SetHang(hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = hang
	s.notifyLocked()
}

// Checks counts the calls to Check so far.
func (s *StaticLeadership) Checks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checks
}

// Watchers returns how many Watch calls are running.
func (s *StaticLeadership) Watchers() int { return s.watchers.Len() }

// Check returns the status, the error set by SetError, or blocks while hung.
func (s *StaticLeadership) Check(ctx context.Context) (sources.Status, error) {
	if err := ctx.Err(); err != nil {
		return sources.Status{}, err
	}
	s.mu.Lock()
	s.checks++
	hang, st, err := s.hang, s.status, s.err
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return sources.Status{}, ctx.Err()
	}
	if err != nil {
		return sources.Status{}, err
	}
	if st.Holder == "" && st.Leader {
		st.Holder = "self"
	}
	return st, nil
}

// Watch pokes once at once and then after every change, until ctx is done.
func (s *StaticLeadership) Watch(ctx context.Context, poke func()) error {
	return s.watchers.Watch(ctx, poke)
}

// notifyLocked pokes the watchers (s.mu is held; Watchers has its own lock).
func (s *StaticLeadership) notifyLocked() { s.watchers.Poke() }
