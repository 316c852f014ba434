package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/internal/invariant"
)

// recorder keeps what the run itself saw and did: client requests,
// leadership holds, freezes and the schedule.
type recorder struct {
	mu       sync.Mutex
	requests []invariant.Request
	holds    []invariant.Hold
	freezes  []invariant.Freeze
	faults   map[string]int
	steps    []string
	start    time.Time
}

func newRecorder() *recorder { return &recorder{faults: map[string]int{}, start: time.Now()} }

func (r *recorder) step(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.steps = append(r.steps, fmt.Sprintf("%s %8.3fs ", now.Format("15:04:05.000"), now.Sub(r.start).Seconds())+fmt.Sprintf(format, args...))
}

func (r *recorder) fault(kind, format string, args ...any) {
	r.mu.Lock()
	r.faults[kind]++
	r.mu.Unlock()
	r.step(kind+": "+format, args...)
}

func (r *recorder) begin(q invariant.Request) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	q.Start, q.Outcome = time.Now(), invariant.Pending
	r.requests = append(r.requests, q)
	return len(r.requests) - 1
}

func (r *recorder) answered(i int, o invariant.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[i].End, r.requests[i].Outcome = time.Now(), o
}

// holdFrom starts a hold of m; holdTo ends m's open hold.
func (r *recorder) holdFrom(m string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holds = append(r.holds, invariant.Hold{Manager: m, From: t})
}

func (r *recorder) holdTo(m string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.holds) - 1; i >= 0; i-- {
		if r.holds[i].Manager == m && r.holds[i].To.IsZero() {
			r.holds[i].To = t
			return
		}
	}
}

func (r *recorder) freeze(m string, from, to time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.freezes = append(r.freezes, invariant.Freeze{Manager: m, From: from, To: to})
}

func (r *recorder) history() invariant.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	return invariant.History{
		Requests: append([]invariant.Request(nil), r.requests...),
		Holds:    append([]invariant.Hold(nil), r.holds...),
		Freezes:  append([]invariant.Freeze(nil), r.freezes...),
	}
}

// faultSummary is "n (kind=n kind=n …)".
func (r *recorder) faultSummary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	kinds := make([]string, 0, len(r.faults))
	total := 0
	for k, n := range r.faults {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		total += n
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d (%s)", total, strings.Join(kinds, " "))
}

func (r *recorder) trace() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "schedule:\n  " + strings.Join(r.steps, "\n  ") + "\n"
}
