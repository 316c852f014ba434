package swarm

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// eventRetry is the pause before the node event stream is opened again
// after it failed (engine down, node demoted to worker, ...).
const eventRetry = 2 * time.Second

// Watch pokes at once, then after every node event of the engine (a
// demotion or promotion shows up in milliseconds instead of at the next
// renewal), until ctx is done; then it returns nil. The event stream is
// reopened after a failure. With NoEvents it only pokes once. Pokes are
// sequential. Changes no event announces (a leader that dies or freezes)
// are found by the controller's renewals.
func (l *Leadership) Watch(ctx context.Context, poke func()) error {
	kick := make(chan struct{}, 1)
	done := make(chan struct{})
	if !l.opts.NoEvents {
		go func() { defer close(done); l.followEvents(ctx, kick) }()
	} else {
		close(done)
	}
	defer func() { <-done }()
	poke()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
			poke()
		}
	}
}

// followEvents sends a kick for every node event of the engine, reopening
// the stream after a failure, until ctx is done. Kicks never block: one
// pending kick is enough to make the controller check again.
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
			case msg := <-msgs:
				l.noteNodeEvent(msg.Actor.ID, msg.Actor.Attributes)
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
