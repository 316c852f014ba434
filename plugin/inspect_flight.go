package plugin

import (
	"context"
	"sync"
	"time"
)

// sharedCallTimeout bounds one shared InspectGroups call, which runs
// detached from any one caller's context: it is cancelled only when every
// caller waiting for it has left.
const sharedCallTimeout = 30 * time.Second

// inspectFlights shares InspectGroups calls between concurrent callers: a
// caller that arrives while a call runs waits for the next call, which
// starts when the running one ends and serves everyone who waited. Every
// caller thus gets an answer from a call that began after it arrived (it
// reads its own writes), the Group runs one such call at a time however
// many clients ask, and all the answers share one []Spec: a client that
// does not read its answer pins nothing of its own.
type inspectFlights struct {
	mu      sync.Mutex
	running bool
	next    *inspectFlight // the call newcomers wait for
}

type inspectFlight struct {
	done    chan struct{}
	specs   []Spec // shared: read only
	err     error
	waiters int                // callers still waiting; guarded by inspectFlights.mu
	cancel  context.CancelFunc // set when the call starts; guarded by inspectFlights.mu
}

// do returns the groups from a call that began after do was called.
func (f *inspectFlights) do(ctx context.Context, g Group) ([]Spec, error) {
	f.mu.Lock()
	var fl *inspectFlight
	if !f.running {
		f.running = true
		fl = &inspectFlight{done: make(chan struct{})}
		go f.run(context.WithoutCancel(ctx), g, fl)
	} else {
		if f.next == nil {
			f.next = &inspectFlight{done: make(chan struct{})}
		}
		fl = f.next
	}
	fl.waiters++
	f.mu.Unlock()
	select {
	case <-fl.done:
		return fl.specs, fl.err
	case <-ctx.Done():
		f.mu.Lock()
		fl.waiters--
		if fl.waiters == 0 && fl.cancel != nil {
			fl.cancel() // nobody wants it any more
		}
		f.mu.Unlock()
		return nil, ctx.Err()
	}
}

// run makes the call of fl, then starts the next one if callers wait.
func (f *inspectFlights) run(base context.Context, g Group, fl *inspectFlight) {
	ctx, cancel := context.WithTimeout(base, sharedCallTimeout)
	f.mu.Lock()
	fl.cancel = cancel
	if fl.waiters == 0 {
		cancel()
	}
	f.mu.Unlock()
	fl.specs, fl.err = g.InspectGroups(ctx)
	cancel()
	close(fl.done)
	f.mu.Lock()
	next := f.next
	f.next = nil
	f.running = next != nil
	f.mu.Unlock()
	if next != nil {
		go f.run(base, g, next)
	}
}
