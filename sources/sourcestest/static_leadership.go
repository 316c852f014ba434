package sourcestest

import (
	"context"
	"sync"

	"github.com/infrakit-manager/manager/sources"
)

// StaticLeadership is a sources.Leadership that tests flip by hand. While an
// error is set, Check returns it and watchers see "not leader".
//
// Watchers are level-triggered, like the real implementations: a flip and a
// flip back that happen before a watcher looks may be seen as no change.
type StaticLeadership struct {
	mu       sync.Mutex
	leader   bool
	err      error
	nextID   int
	watchers map[int]chan struct{}
}

var _ sources.Leadership = (*StaticLeadership)(nil)

// NewStaticLeadership returns a fake reporting leader.
func NewStaticLeadership(leader bool) *StaticLeadership {
	return &StaticLeadership{leader: leader, watchers: map[int]chan struct{}{}}
}

// Set changes the status and wakes the watchers.
func (s *StaticLeadership) Set(leader bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leader = leader
	s.notifyLocked()
}

// SetError makes the status unknown (nil clears it) and wakes the watchers.
func (s *StaticLeadership) SetError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	s.notifyLocked()
}

// Watchers returns how many Watch calls are running.
func (s *StaticLeadership) Watchers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

// Check returns the status, or the error set by SetError.
func (s *StaticLeadership) Check(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	return s.leader, nil
}

// Watch calls changed with the status at once and then on every change,
// until ctx is done.
func (s *StaticLeadership) Watch(ctx context.Context, changed func(leader bool)) error {
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

	last := s.status()
	changed(last)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			if now := s.status(); now != last {
				last = now
				changed(now)
			}
		}
	}
}

func (s *StaticLeadership) status() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader && s.err == nil
}

func (s *StaticLeadership) notifyLocked() {
	for _, ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
