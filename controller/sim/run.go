package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/go-logr/logr"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/internal/invariant"
)

// Config configures one simulated run.
type Config struct {
	// Seed fixes the schedule.
	Seed uint64
	// Steps is the number of schedule steps; 0 lets the seed choose (40-120).
	Steps int
	// Settle is the real time the controller's goroutines get after each
	// step. Defaults to 1ms.
	Settle time.Duration
	// Log receives the managers' logs. Defaults to discard.
	Log logr.Logger
}

// Result is what one run did and found.
type Result struct {
	Seed       uint64
	Managers   int
	Steps      int // steps run (fewer than scheduled when a step check failed)
	Faults     int // faults injected (leadership, store, downstream, phantoms, restarts)
	Flips      int // leadership changes the schedule asked for
	Requests   int // client requests that change the store
	Effects    int // downstream changes
	Violations []invariant.Violation
	Frozen     int  // changes tolerated as the frozen case (a call whose gate passed before a clock jump)
	Late       bool // converged only after the bound, in extra real time (a loaded machine)
	Trace      string
}

// The simulated timings (fake time, except CheckTimeout and CallTimeout
// which bound real waits).
const (
	lease       = 2 * time.Second
	renew       = 250 * time.Millisecond
	resync      = time.Second
	maxBackoff  = time.Second
	clientWait  = 300 * time.Millisecond // real: a client gives up waiting for the answer
	convergeFor = 2*lease + 3*resync + 2*maxBackoff
)

// rules are the invariant parameters of the simulator: no slack; a change
// counts as the frozen case only if stamped within a millisecond of a clock
// jump (before the next step), by a manager whose lease held when the jump
// began (taken as the fake time of 100ms of real time earlier: recorder.freeze).
var rules = invariant.Rules{Lease: lease, Frozen: time.Millisecond}

// run is one simulation.
type run struct {
	cfg   Config
	rng   *rand.Rand
	clock *testingclock.FakeClock
	rec   *recorder
	auth  *authority
	st    *store
	dir   string

	names []string
	downs []*downstream
	srcs  []*source

	mu      sync.Mutex
	mgrs    []*controller.Manager
	busy    map[string]bool
	clients sync.WaitGroup

	version int
	ids     int64
	debug   bool
	res     Result
}

// Run runs the simulation of cfg.Seed and checks every invariant.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Settle <= 0 {
		cfg.Settle = time.Millisecond
	}
	if cfg.Log.GetSink() == nil {
		cfg.Log = logr.Discard()
	}
	dir, err := os.MkdirTemp("", "iksim")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := &run{
		cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x1f)), clock: clk, dir: dir,
		busy: map[string]bool{}, res: Result{Seed: cfg.Seed}, debug: os.Getenv("SIM_DEBUG") != "",
	}
	r.rec = newRecorder(clk)
	r.auth = newAuthority(clk, lease, r.rec)
	r.st = newStore()
	n := 2 + r.rng.IntN(2)
	r.res.Managers = n
	for i := range n {
		name := fmt.Sprintf("m%d", i)
		d, err := newDownstream(name, clk, r.rec, r.nextID)
		if err != nil {
			return r.res, err
		}
		r.names = append(r.names, name)
		r.downs = append(r.downs, d)
		r.srcs = append(r.srcs, r.auth.source(name))
		r.mgrs = append(r.mgrs, nil)
	}
	defer r.stopAll()
	r.auth.setWant(r.names[0])
	for i := range n {
		if err := r.start(ctx, i); err != nil {
			return r.res, err
		}
	}
	steps := cfg.Steps
	if steps <= 0 {
		steps = 40 + r.rng.IntN(81)
	}
	for range steps {
		if err := ctx.Err(); err != nil {
			return r.res, err
		}
		r.step(ctx)
		r.res.Steps++
		if vs, _ := invariant.Check(r.rec.history(), rules); len(vs) > 0 {
			r.res.Violations = vs
			break
		}
	}
	if len(r.res.Violations) == 0 {
		r.quiesce(ctx)
	}
	h := r.rec.history()
	r.res.Requests, r.res.Effects = len(h.Requests), len(h.Effects)
	if len(r.res.Violations) > 0 || r.debug {
		r.res.Trace = r.rec.trace()
	}
	return r.res, nil
}

// nextID numbers instances, so the plugin's IDs do not depend on a global
// random source.
func (r *run) nextID() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids++
	return r.ids
}

func (r *run) options(i int) controller.Options {
	o := controller.DefaultOptions()
	o.Name, o.PluginDir, o.ProxyFor = r.names[i], r.dir, "down"
	o.Leadership, o.Store, o.Downstream = r.srcs[i], r.st, r.downs[i]
	o.LeaseDuration, o.RenewInterval, o.ResyncInterval, o.MaxBackoff = lease, renew, resync, maxBackoff
	o.CheckTimeout, o.CallTimeout, o.StoreTimeout = 50*time.Millisecond, 100*time.Millisecond, time.Second
	o.Workers = 4
	o.Clock = r.clock
	o.Log = r.cfg.Log.WithValues("manager", r.names[i])
	return o
}

func (r *run) start(ctx context.Context, i int) error {
	m, err := controller.New(r.options(i))
	if err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	r.mgrs[i] = m
	r.mu.Unlock()
	return nil
}

func (r *run) manager(i int) *controller.Manager {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mgrs[i]
}

func (r *run) stop(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if m := r.manager(i); m != nil {
		_ = m.Stop(ctx)
	}
}

func (r *run) stopAll() {
	r.waitClients(10 * time.Second)
	for i := range r.names {
		r.stop(i)
	}
}

// waitClients advances the clock until every client call has returned, at
// most d of real time.
func (r *run) waitClients(d time.Duration) bool {
	done := make(chan struct{})
	go func() { r.clients.Wait(); close(done) }()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return true
		default:
		}
		r.advance(50 * time.Millisecond)
		time.Sleep(r.cfg.Settle)
	}
	return false
}
