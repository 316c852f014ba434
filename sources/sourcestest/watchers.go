package sourcestest

import (
	"context"
	"sync"
)

// Watchers is the watcher set behind a fake's Leadership.Watch: Watch pokes
// at once and then after every Poke, until its context is done. The zero
// value is ready to use.
type Watchers struct {
	mu   sync.Mutex
	wake map[chan struct{}]struct{}
}

// Watch registers a watcher and pokes it at once and on every Poke until ctx
// is done; it returns nil then, as sources.Leadership.Watch does.
func (w *Watchers) Watch(ctx context.Context, poke func()) error {
	if ctx.Err() != nil {
		return nil
	}
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.wake == nil {
		w.wake = map[chan struct{}]struct{}{}
	}
	w.wake[ch] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.wake, ch)
		w.mu.Unlock()
	}()
	poke()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
			poke()
		}
	}
}

// Poke wakes every running Watch once (pokes coalesce while one is pending).
func (w *Watchers) Poke() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.wake {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Len returns how many Watch calls are running.
func (w *Watchers) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.wake)
}
