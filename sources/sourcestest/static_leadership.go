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
	nextID   int
	watchers map[int]chan struct{}
}

var _ sources.Leadership = (*StaticLeadership)(nil)

// NewStaticLeadership returns a fake reporting leader or not.
func NewStaticLeadership(leader bool) *StaticLeadership {
	return &StaticLeadership{status: sources.Status{Leader: leader}, watchers: map[int]chan struct{}{}}
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
func (s *StaticLeadership) Watchers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

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
	if ctx.Err() != nil {
		return nil
	}
	wake := make(chan struct{}, 1)
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	s.watchers[id] = wake
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, id)
		s.mu.Unlock()
	}()
	poke()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			poke()
		}
	}
}

func (s *StaticLeadership) notifyLocked() {
	for _, ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
