package ops

import (
	"slices"
	"strings"
	"sync"

	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/plugin"
)

// Ledger remembers the last reconcile of each group for Manager.Status,
// under its own lock, so that answering a status never waits on the
// reconcile loop's locks. Safe for concurrent use.
type Ledger struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	last  map[plugin.ID]plugin.GroupStatus
}

// NewLedger returns an empty ledger. A nil clock means the real clock.
func NewLedger(clk clock.PassiveClock) *Ledger {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Ledger{clock: clk, last: make(map[plugin.ID]plugin.GroupStatus)}
}

// Record notes that group id was just reconciled: action (e.g. "commit",
// "free", "noop"), err (nil: result "ok", else the error's text) and the
// reason the action was chosen.
func (l *Ledger) Record(id plugin.ID, action string, err error, reason string) {
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	g := plugin.GroupStatus{ID: id, LastAction: action, LastResult: result, LastTime: l.clock.Now(), Reason: reason}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last[id] = g
}

// Forget drops group id (destroyed, or no longer stored nor running).
func (l *Ledger) Forget(id plugin.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.last, id)
}

// Retain drops every group not in ids (neither stored, running nor asked
// for any more), so the ledger stays bounded by the groups that are.
func (l *Ledger) Retain(ids []plugin.ID) {
	keep := make(map[plugin.ID]bool, len(ids))
	for _, id := range ids {
		keep[id] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.last {
		if !keep[id] {
			delete(l.last, id)
		}
	}
}

// Groups returns the last reconcile of each of ids, sorted by ID; an id
// never reconciled has LastAction "none". With no ids it returns every
// recorded group.
func (l *Ledger) Groups(ids ...plugin.ID) []plugin.GroupStatus {
	l.mu.Lock()
	out := make([]plugin.GroupStatus, 0, max(len(ids), len(l.last)))
	if len(ids) == 0 {
		for _, g := range l.last {
			out = append(out, g)
		}
	} else {
		for _, id := range ids {
			g, ok := l.last[id]
			if !ok {
				g = plugin.GroupStatus{ID: id, LastAction: "none"}
			}
			out = append(out, g)
		}
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b plugin.GroupStatus) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}
