package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// pollEvery is how often a wait re-reads an event log. It adds nothing to a
// figure: figures come from the events' own time stamps.
const pollEvery = 2 * time.Millisecond

// tailer reads a simulator's event log incrementally.
type tailer struct {
	path   string
	off    int64
	events []groupsim.Event
}

// poll appends the complete lines written since the last poll. A missing
// file has no events yet.
func (t *tailer) poll() error {
	f, err := os.Open(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return fmt.Errorf("event log %s: %w", t.path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("event log %s: %w", t.path, err)
	}
	end := bytes.LastIndexByte(data, '\n') + 1 // a partial last line waits
	evs, err := groupsim.ReadEvents(bytes.NewReader(data[:end]))
	if err != nil {
		return fmt.Errorf("event log %s: %w", t.path, err)
	}
	t.events = append(t.events, evs...)
	t.off += int64(end)
	return nil
}

// match selects events.
type match struct {
	since int64  // T >= since (Unix ns)
	op    string // groupsim.OpCommit, OpFree, …
	group string // "" = any group
}

func (m match) ok(ev groupsim.Event) bool {
	return ev.OK && ev.T >= m.since && ev.Op == m.op && (m.group == "" || ev.Group == m.group)
}

// waitFirst waits for the first event matching m and returns its time.
func (t *tailer) waitFirst(ctx context.Context, m match, timeout time.Duration) (int64, error) {
	var found int64
	err := t.waitUntil(ctx, timeout, func(evs []groupsim.Event) bool {
		for _, ev := range evs {
			if m.ok(ev) {
				found = ev.T
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, fmt.Errorf("%s of %q after %d in %s: %w", m.op, m.group, m.since, t.path, err)
	}
	return found, nil
}

// waitDistinct waits until n distinct groups have an event matching m and
// returns the time of the last of those first events.
func (t *tailer) waitDistinct(ctx context.Context, m match, n int, timeout time.Duration) (int64, error) {
	seen := make(map[string]bool, n)
	var last int64
	err := t.waitUntil(ctx, timeout, func(evs []groupsim.Event) bool {
		for _, ev := range evs {
			if m.ok(ev) && !seen[ev.Group] {
				seen[ev.Group] = true
				last = max(last, ev.T)
			}
		}
		return len(seen) >= n
	})
	if err != nil {
		return 0, fmt.Errorf("%d distinct %s events (saw %d) in %s: %w", n, m.op, len(seen), t.path, err)
	}
	return last, nil
}

// waitUntil polls the log and hands done each batch of new events (the
// first batch is every event already read) until it returns true.
func (t *tailer) waitUntil(ctx context.Context, timeout time.Duration, done func([]groupsim.Event) bool) error {
	deadline := time.Now().Add(timeout)
	next := 0
	for {
		if err := t.poll(); err != nil {
			return err
		}
		batch := t.events[next:]
		next = len(t.events)
		if done(batch) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s", errTimeout, timeout)
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return err
		}
	}
}

// handover splits one handover into overlap (the new leader committed
// before the old one freed: both ran the group) and gap (the old one freed
// before the new one committed: nobody ran it). One of the two is zero.
func handover(oldFree, newCommit int64) (overlap, gap time.Duration) {
	if newCommit < oldFree {
		return time.Duration(oldFree - newCommit), 0
	}
	return 0, time.Duration(newCommit - oldFree)
}
