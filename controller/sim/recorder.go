package sim

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/invariant"
)

// recorder keeps the history of one run, stamped on the fake clock. Events
// recorded at the same fake instant get increasing nanosecond offsets, so
// their order is the order they happened in.
type recorder struct {
	clock clock.PassiveClock

	mu     sync.Mutex
	h      invariant.History
	lastAt time.Time
	marks  []mark
	steps  []string
}

func newRecorder(c clock.PassiveClock) *recorder { return &recorder{clock: c} }

// nowLocked returns a stamp after every earlier one.
func (r *recorder) nowLocked() time.Time {
	t := r.clock.Now()
	if !t.After(r.lastAt) {
		t = r.lastAt.Add(time.Nanosecond)
	}
	r.lastAt = t
	return t
}

func (r *recorder) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nowLocked()
}

func (r *recorder) hold(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.nowLocked()
	r.h.Holds = append(r.h.Holds, invariant.Hold{Manager: name, From: t, To: t})
}

// starved is how long (real time) a goroutine of the controller may go
// without running on a loaded machine with the race detector: a change whose
// gate passed that long before its call is the frozen case.
const starved = 100 * time.Millisecond

// mark is the fake time at one real instant.
type mark struct{ real, fake time.Time }

// freeze records a jump of the fake clock from from to to: every manager's
// goroutines that had not run were frozen over it. The freeze is taken to
// begin at the fake time of `starved` real time ago, since a goroutine may
// have slept through several jumps.
func (r *recorder) freeze(from, to time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.marks = append(r.marks, mark{real: now, fake: from})
	for len(r.marks) > 1 && now.Sub(r.marks[0].real) > starved {
		r.marks = r.marks[1:]
	}
	r.h.Freezes = append(r.h.Freezes, invariant.Freeze{From: r.marks[0].fake, To: to})
}

// effect records a change, stamped by the caller when its call arrived.
func (r *recorder) effect(e invariant.Effect) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Effects = append(r.h.Effects, e)
}

// begin records a client request as it starts, pending; answered records
// its outcome.
func (r *recorder) begin(q invariant.Request) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	q.Start, q.Outcome = r.nowLocked(), invariant.Pending
	r.h.Requests = append(r.h.Requests, q)
	return len(r.h.Requests) - 1
}

func (r *recorder) answered(i int, o invariant.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.Requests[i].End, r.h.Requests[i].Outcome = r.nowLocked(), o
}

// step notes one schedule step for the failure report.
func (r *recorder) step(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, fmt.Sprintf("%4d %s ", len(r.steps)+1, r.clock.Now().Format("04:05.000"))+fmt.Sprintf(format, args...))
}

// history returns a copy of the history so far.
func (r *recorder) history() invariant.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.h
	h.Requests = append([]invariant.Request(nil), h.Requests...)
	h.Effects = append([]invariant.Effect(nil), h.Effects...)
	h.Holds = append([]invariant.Hold(nil), h.Holds...)
	h.Freezes = append([]invariant.Freeze(nil), h.Freezes...)
	return h
}

// trace returns the steps and the downstream effects, for a failure report.
func (r *recorder) trace() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	b.WriteString("steps:\n")
	for _, s := range r.steps {
		b.WriteString("  " + s + "\n")
	}
	b.WriteString("client requests:\n")
	for _, q := range r.h.Requests {
		fmt.Fprintf(&b, "  %s-%s %s\n", q.Start.Format("04:05.000000"), q.End.Format("04:05.000000"), q)
	}
	b.WriteString("downstream effects:\n")
	for _, e := range r.h.Effects {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}
