package sim

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/invariant"
)

// envInt reads a positive integer from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// tally adds up runs for the summary line.
type tally struct {
	mu                                               sync.Mutex
	seeds, steps, faults, flips, reqs, effects, late int
	frozen                                           int
	counts                                           map[string]int
	failed                                           []uint64
}

func (t *tally) add(r Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = invariant.Counts(nil)
	}
	t.seeds++
	t.steps += r.Steps
	t.faults += r.Faults
	t.flips += r.Flips
	t.reqs += r.Requests
	t.effects += r.Effects
	if r.Late {
		t.late++
	}
	t.frozen += r.Frozen
	for k, n := range invariant.Counts(r.Violations) {
		t.counts[k] += n
	}
	if len(r.Violations) > 0 {
		t.failed = append(t.failed, r.Seed)
	}
}

func (t *tally) line(took time.Duration) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("sim: seeds=%d steps=%d faults=%d leader-changes=%d requests=%d downstream-changes=%d late-converged=%d %s=%d took=%s violations: %s",
		t.seeds, t.steps, t.faults, t.flips, t.reqs, t.effects, t.late, invariant.FrozenCase, t.frozen, took.Round(time.Millisecond), invariant.Summary(t.counts))
}

// report fails t with the seed, its replay command and its trace.
func report(t *testing.T, r Result) {
	t.Helper()
	t.Errorf("sim: seed %d broke %d invariant(s); replay: make sim SEED=%d\n%s\n%s",
		r.Seed, len(r.Violations), r.Seed, joinViolations(r.Violations), r.Trace)
}

func joinViolations(vs []invariant.Violation) string {
	s := ""
	for _, v := range vs {
		s += "  VIOLATION " + v.String() + "\n"
	}
	return s
}

// runSeeds runs seeds first..first+n-1, par at a time.
func runSeeds(t *testing.T, ctx context.Context, first uint64, n, par int, tl *tally, onResult func(Result)) {
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for s := first; s < first+uint64(n) && ctx.Err() == nil; s++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := Run(ctx, Config{Seed: seed})
			if err != nil && ctx.Err() == nil {
				t.Errorf("seed %d: %v", seed, err)
				return
			}
			if ctx.Err() != nil {
				return
			}
			tl.add(r)
			onResult(r)
		}(s)
	}
	wg.Wait()
}

// TestSim runs a few hundred seeds (SIM_SEEDS, default 200, from
// SIM_FIRST, default 1) and fails with the seed, its replay command and
// its schedule when any invariant breaks.
func TestSim(t *testing.T) {
	n := envInt(t, "SIM_SEEDS", 200)
	if testing.Short() {
		n = 20
	}
	first := uint64(envInt(t, "SIM_FIRST", 1))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	var tl tally
	runSeeds(t, ctx, first, n, 8, &tl, func(r Result) {
		if len(r.Violations) > 0 {
			report(t, r)
		}
	})
	require.NoError(t, ctx.Err(), "the seeds did not finish in time")
	t.Log(tl.line(time.Since(start)))
}

// TestSimSeed replays one seed (SIM_SEED; make sim SEED=N) SIM_REPLAYS
// times (default 16), 8 at once: a failure that depends on how goroutines
// interleave shows in some replays only, more often under load. SIM_LOG=1
// adds the managers' logs, SIM_DEBUG=1 the trace of passing replays.
func TestSimSeed(t *testing.T) {
	v := os.Getenv("SIM_SEED")
	if v == "" {
		t.Skip("set SIM_SEED (make sim SEED=N) to replay one seed")
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	require.NoError(t, err, "SIM_SEED")
	replays := envInt(t, "SIM_REPLAYS", 16)
	var mu sync.Mutex
	failures := 0
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range replays {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cfg := Config{Seed: seed}
			if os.Getenv("SIM_LOG") != "" {
				cfg.Log = testr.New(t).WithValues("replay", i+1)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			r, err := Run(ctx, cfg)
			if err != nil {
				t.Errorf("replay %d: %v", i+1, err)
				return
			}
			t.Logf("sim: seed=%d replay=%d managers=%d steps=%d faults=%d requests=%d downstream-changes=%d violations: %s",
				seed, i+1, r.Managers, r.Steps, r.Faults, r.Requests, r.Effects, invariant.Summary(invariant.Counts(r.Violations)))
			mu.Lock()
			defer mu.Unlock()
			if len(r.Violations) > 0 {
				failures++
				report(t, r)
			} else if r.Trace != "" {
				t.Log(r.Trace)
			}
		}()
	}
	wg.Wait()
	t.Logf("sim: seed=%d failed in %d of %d replays", seed, failures, replays)
}

// TestSimLong runs seeds until stopped (make sim-long; SIM_LONG=1), from
// SIM_FIRST, printing a summary line every 100 seeds.
func TestSimLong(t *testing.T) {
	if os.Getenv("SIM_LONG") == "" {
		t.Skip("set SIM_LONG=1 (make sim-long) to run seeds until stopped")
	}
	first := uint64(envInt(t, "SIM_FIRST", 1000000))
	start := time.Now()
	var tl tally
	for ctx := t.Context(); ctx.Err() == nil; first += 100 {
		runSeeds(t, ctx, first, 100, 8, &tl, func(r Result) {
			if len(r.Violations) > 0 {
				report(t, r)
			}
		})
		fmt.Println(tl.line(time.Since(start)))
	}
}

// TestSimRegressions replays the seeds that found bugs since fixed:
//   - seed 3: Manager.Status listed every group the ledger ever recorded
//     (frees of groups nobody ran included) once nothing was stored or
//     running, and the ledger never forgot them (state-bounded).
func TestSimRegressions(t *testing.T) {
	for _, seed := range []uint64{3} {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			for range 4 {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				r, err := Run(ctx, Config{Seed: seed})
				cancel()
				require.NoError(t, err)
				if len(r.Violations) > 0 {
					report(t, r)
					return
				}
			}
		})
	}
}

// TestSimDestroyRegressions replays, 8 times each, the seeds on which the
// simulator found destroy intents lost before they were made durable
// (issue 22; docs/chaos.md has the steps). On the code before that fix
// each failed in many replays; now none may. Which way in a replay took
// varied with the interleaving:
//   - seed 1000355 (failed in 16 of 24 replays): the destroy is answered OK,
//     yet the leader only freed the group: the front removed it from the
//     store, a resync racing the call planned "running downstream, not
//     stored" and freed it, then the destroy intent was recorded and the
//     destroy found it not running; in other replays the term ends first.
//   - seed 1000072 (4 of 16): the leader's lease lapses after the store
//     write; the destroy intent ended with the term and the follower freed
//     the group; no one destroyed it.
//   - seed 1000675 (16 of 16): the manager restarts between the store write
//     and the destroy downstream; the new process freed the group.
func TestSimDestroyRegressions(t *testing.T) {
	replays := envInt(t, "SIM_REPLAYS", 8)
	for _, seed := range []uint64{1000355, 1000072, 1000675} {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			var mu sync.Mutex
			failed := 0
			var wg sync.WaitGroup
			sem := make(chan struct{}, 8)
			for range replays {
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
					defer cancel()
					r, err := Run(ctx, Config{Seed: seed})
					if err != nil {
						t.Error(err)
						return
					}
					if len(r.Violations) > 0 {
						mu.Lock()
						failed++
						if failed == 1 {
							report(t, r)
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			t.Logf("sim: seed=%d failed in %d of %d replays", seed, failed, replays)
		})
	}
}
