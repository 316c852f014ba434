package ops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// Health is what the server asks on /healthz and /readyz. A nil error means
// healthy (200 "ok"); an error's text is the 503 body, so it should say in a
// few words what failed. Both run under the server's check deadline and must
// honour ctx.
type Health interface {
	// Healthz: the process and its loops are alive.
	Healthz(ctx context.Context) error
	// Readyz: this replica can serve (socket up, store readable, leadership known).
	Readyz(ctx context.Context) error
}

// CheckFunc is one named check: nil when fine.
type CheckFunc func(ctx context.Context) error

// Checks is a Health made of named check functions, added at any time
// (before or after the server starts). Every check of a probe runs, in the
// order added; the probe fails with "name: error" for each failing one, one
// per line. With no checks a probe answers ok. Safe for concurrent use.
type Checks struct {
	mu      sync.Mutex
	live    []namedCheck
	ready   []namedCheck
	details []namedDetail
}

// Detailer adds lines to the /readyz answer (pass or fail), e.g. where the
// leader is. It must answer from memory.
type Detailer interface {
	ReadyDetails(ctx context.Context) []string
}

// DetailFunc returns one "name: value" line of /readyz, "" for none.
type DetailFunc func(ctx context.Context) string

// AddReadyDetail adds a line to /readyz, printed as "name: value" when fn
// returns a value.
func (c *Checks) AddReadyDetail(name string, fn DetailFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.details = append(c.details, namedDetail{name, fn})
}

// ReadyDetails returns the detail lines, in the order added.
func (c *Checks) ReadyDetails(ctx context.Context) []string {
	c.mu.Lock()
	ds := append([]namedDetail(nil), c.details...)
	c.mu.Unlock()
	var out []string
	for _, d := range ds {
		if v := d.fn(ctx); v != "" {
			out = append(out, d.name+": "+v)
		}
	}
	return out
}

type namedDetail struct {
	name string
	fn   DetailFunc
}

type namedCheck struct {
	name string
	fn   CheckFunc
}

var (
	_ Health   = (*Checks)(nil)
	_ Detailer = (*Checks)(nil)
)

// AddLive adds a liveness check (/healthz).
func (c *Checks) AddLive(name string, fn CheckFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = append(c.live, namedCheck{name, fn})
}

// AddReady adds a readiness check (/readyz).
func (c *Checks) AddReady(name string, fn CheckFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ready = append(c.ready, namedCheck{name, fn})
}

// Healthz runs the liveness checks.
func (c *Checks) Healthz(ctx context.Context) error { return run(ctx, c.list(false)) }

// Readyz runs the readiness checks.
func (c *Checks) Readyz(ctx context.Context) error { return run(ctx, c.list(true)) }

func (c *Checks) list(ready bool) []namedCheck {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ready {
		return append([]namedCheck(nil), c.ready...)
	}
	return append([]namedCheck(nil), c.live...)
}

func run(ctx context.Context, checks []namedCheck) error {
	var errs []error
	for _, ch := range checks {
		if err := ch.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ch.name, err))
		}
	}
	return errors.Join(errs...)
}

// Heartbeat tells whether a loop made progress recently: the loop calls
// Beat each time round, and Check fails once no Beat (or creation) is more
// recent than maxAge. Beat is one atomic store, cheap enough for any loop.
type Heartbeat struct {
	clock clock.PassiveClock
	last  atomic.Int64 // unix nanoseconds of the last Beat (or creation)
}

// NewHeartbeat returns a heartbeat that counts as beaten now. A nil clock
// means the real clock.
func NewHeartbeat(clk clock.PassiveClock) *Heartbeat {
	if clk == nil {
		clk = clock.RealClock{}
	}
	h := &Heartbeat{clock: clk}
	h.Beat()
	return h
}

// Beat records progress now.
func (h *Heartbeat) Beat() { h.last.Store(h.clock.Now().UnixNano()) }

// Last is the time of the last Beat.
func (h *Heartbeat) Last() time.Time { return time.Unix(0, h.last.Load()) }

// Check returns a CheckFunc failing with "no progress for D (limit maxAge)"
// when the last Beat is older than maxAge.
func (h *Heartbeat) Check(maxAge time.Duration) CheckFunc {
	return func(context.Context) error {
		if age := h.clock.Since(h.Last()); age > maxAge {
			return fmt.Errorf("no progress for %s (limit %s)", age.Round(time.Millisecond), maxAge)
		}
		return nil
	}
}
