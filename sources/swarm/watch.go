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

// Watch calls changed with the first status at once, then on every change,
// until ctx is done; then it returns nil. It checks every PollInterval and,
// unless NoEvents, also right after every node event of the engine. Each
// check is bounded by the client's CallTimeout, and a check that fails or
// times out reports "not leader", so a hung engine is noticed within
// CallTimeout instead of stalling the loop. Calls to changed are sequential.
func (l *Leadership) Watch(ctx context.Context, changed func(leader bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kick := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the event goroutine is gone when Watch returns
	if !l.opts.NoEvents {
		wg.Go(func() { l.followEvents(ctx, kick) })
	}
	watchLoop(ctx, l.opts.Clock, l.opts.PollInterval, l.opts.Log.WithValues("host", l.c.host), l.Check, kick, changed)
	return nil
}

// watchLoop is Watch's engine, apart from the Docker client: check now, then
// on every tick or kick; report the first status and every change.
func watchLoop(ctx context.Context, clk clock.WithTicker, every time.Duration, log logr.Logger,
	check func(context.Context) (bool, error), kick <-chan struct{}, changed func(bool),
) {
	ticker := clk.NewTicker(every)
	defer ticker.Stop()
	var last, reported bool
	var lastErr string
	for {
		leader, err := check(ctx)
		if ctx.Err() != nil {
			return
		}
		// Log an error once, not on every poll while it lasts.
		switch {
		case err != nil && err.Error() != lastErr:
			log.Info("leadership status unknown, acting as follower", "error", err.Error())
			lastErr = err.Error()
		case err == nil && lastErr != "":
			log.Info("leadership status known again", "leader", leader)
			lastErr = ""
		}
		if !reported || leader != last {
			log.V(1).Info("leadership changed", "leader", leader)
			changed(leader)
			last, reported = leader, true
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		case <-kick:
		}
	}
}

// followEvents sends a kick for every node event of the engine, reopening
// the stream after a failure, until ctx is done. Kicks never block: one
// pending kick is enough to make the loop check again.
func (l *Leadership) followEvents(ctx context.Context, kick chan<- struct{}) {
	f := filters.NewArgs(filters.Arg("type", string(events.NodeEventType)))
	for {
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
