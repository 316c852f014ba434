package swarm

import (
	"context"
	"sync"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// eventRetry is the pause before the node event stream is opened again
// after it failed (engine down, node demoted to worker, ...).
const eventRetry = 2 * time.Second

// maxInFlight bounds the checks Watch runs at once. During a Raft handover
// an engine's NodeInspect can hang until the call timeout; a few checks in
// flight let a later one, started once the engine has settled, answer first.
const maxInFlight = 4

// Watch calls changed with the first status at once, then on every change,
// until ctx is done; then it returns nil. It checks every PollInterval and,
// unless NoEvents, also right after every node event of the engine.
//
// A check is bounded by the client's CallTimeout, and one that fails or
// times out reports "not leader", so a hung engine is noticed within
// CallTimeout. A slow check does not hold up the next one either: while it
// runs, the next tick or event starts a second check, and the answer of the
// most recently started check wins. Calls to changed are sequential.
func (l *Leadership) Watch(ctx context.Context, changed func(leader bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kick := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: no goroutine of ours outlives Watch
	if !l.opts.NoEvents {
		wg.Go(func() { l.followEvents(ctx, kick) })
	}
	watchLoop(ctx, l.opts.Clock, l.opts.PollInterval, l.opts.Log.WithValues("host", l.c.host), l.Check, kick, changed)
	return nil
}

// checkResult is the outcome of check number seq.
type checkResult struct {
	seq    uint64
	leader bool
	err    error
}

// watchLoop is Watch's engine, apart from the Docker client: check now, then
// on every tick or kick (up to maxInFlight checks at once); report the first
// status and every change, ignoring answers older than one already used.
// It returns when ctx is done and every check it started has returned.
func watchLoop(ctx context.Context, clk clock.WithTicker, every time.Duration, log logr.Logger,
	check func(context.Context) (bool, error), kick <-chan struct{}, changed func(bool),
) {
	ticker := clk.NewTicker(every)
	defer ticker.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	results := make(chan checkResult, maxInFlight) // never blocks a sender
	var started, used uint64
	inFlight := 0
	pending := false // a tick or event came while every slot was busy
	start := func() {
		if inFlight >= maxInFlight {
			pending = true // start it as soon as a slot frees: never drop an event
			return
		}
		inFlight++
		started++
		seq := started
		wg.Go(func() {
			leader, err := check(ctx)
			results <- checkResult{seq: seq, leader: leader, err: err}
		})
	}

	var last, reported bool
	var lastErr string
	start()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			start()
		case <-kick:
			start()
		case r := <-results:
			inFlight--
			if ctx.Err() != nil {
				return
			}
			if pending {
				pending = false
				start()
			}
			if r.seq < used {
				continue // a newer check has answered already
			}
			used = r.seq
			// Log an error once, not on every poll while it lasts.
			switch {
			case r.err != nil && r.err.Error() != lastErr:
				log.Info("leadership status unknown, acting as follower", "error", r.err.Error())
				lastErr = r.err.Error()
			case r.err == nil && lastErr != "":
				log.Info("leadership status known again", "leader", r.leader)
				lastErr = ""
			}
			if !reported || r.leader != last {
				log.V(1).Info("leadership changed", "leader", r.leader)
				changed(r.leader)
				last, reported = r.leader, true
			}
		}
	}
}

// followEvents sends a kick for every node event of the engine, reopening
// the stream after a failure, until ctx is done. Kicks never block: one
// pending kick is enough to make the loop check again.
func (l *Leadership) followEvents(ctx context.Context, kick chan<- struct{}) {
	f := filters.NewArgs(filters.Arg("type", string(events.NodeEventType)))
	for {
		if err := l.c.negotiate(ctx); err != nil {
			l.opts.Log.V(1).Info("node event stream not opened", "host", l.c.host, "error", err.Error())
			select {
			case <-ctx.Done():
				return
			case <-l.opts.Clock.After(eventRetry):
			}
			continue
		}
		msgs, errs := l.c.api.Events(ctx, events.ListOptions{Filters: f})
	stream:
		for {
			select {
			case <-ctx.Done():
				return
			case <-msgs:
				select {
				case kick <- struct{}{}:
				default:
				}
			case err := <-errs:
				l.opts.Log.V(1).Info("node event stream ended", "host", l.c.host, "error", err)
				break stream
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-l.opts.Clock.After(eventRetry):
		}
	}
}
