package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/internal/invariant"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// groups is the pool client calls pick from: small, so calls collide.
var groups = []string{"g0", "g1", "g2", "g3", "g4"}

// advances are the clock moves between steps.
var advances = []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond,
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2500 * time.Millisecond}

// step draws one schedule step from the seed, carries it out, moves the
// clock and lets the controller's goroutines run.
func (r *run) step(ctx context.Context) {
	i := r.rng.IntN(len(r.names))
	switch x := r.rng.IntN(100); {
	case x < 45:
		r.client(ctx)
	case x < 52:
		r.rec.step("resync %s", r.names[i])
		r.manager(i).Recheck("sim")
	case x < 60:
		want := r.names[i]
		if r.rng.IntN(8) == 0 {
			want = ""
		}
		r.rec.step("leadership: %q should lead", want)
		r.auth.setWant(want)
		r.res.Flips++
	case x < 68:
		f := []string{"", "", "unknown", "hang"}[r.rng.IntN(4)]
		r.rec.step("leadership source of %s: %q", r.names[i], f)
		r.srcs[i].setFault(f)
		r.countFault(f != "")
	case x < 76:
		f := []string{storeOK, storeOK, storeUnreadable, storeSaveFails, storeReplyLost}[r.rng.IntN(5)]
		r.rec.step("store: %q", f)
		r.st.setFault(f)
		r.countFault(f != storeOK)
	case x < 86:
		f := r.downFaults()
		r.rec.step("downstream of %s: %s", r.names[i], f)
		r.downs[i].setFaults(f)
		r.countFault(len(f.fail) > 0 || f.slow > 0 || f.late > 0)
	case x < 89:
		id := fmt.Sprintf("phantom%d", r.rng.IntN(3))
		r.rec.step("downstream of %s lists %s", r.names[i], id)
		if err := r.downs[i].phantom(id); err != nil {
			r.rec.step("phantom: %v", err)
		}
		r.countFault(true)
	case x < 93:
		r.rec.step("restart %s", r.names[i])
		r.stop(i)
		if err := r.start(ctx, i); err != nil {
			r.rec.step("restart %s failed: %v", r.names[i], err)
		}
		r.countFault(true)
	}
	r.advance(advances[r.rng.IntN(len(advances))])
	time.Sleep(r.cfg.Settle)
}

// advance moves the fake clock, noting the jump as a freeze.
func (r *run) advance(d time.Duration) {
	if d <= 0 {
		return
	}
	from := r.clock.Now()
	r.clock.Step(d)
	r.rec.freeze(from, r.clock.Now())
}

func (r *run) countFault(yes bool) {
	if yes {
		r.res.Faults++
	}
}

func (r *run) downFaults() downFaults {
	f := downFaults{fail: map[string]bool{}}
	for _, m := range groupsim.Methods() {
		if r.rng.IntN(6) == 0 {
			f.fail[m] = true
		}
	}
	if r.rng.IntN(3) == 0 {
		f.slow = advances[r.rng.IntN(len(advances))]
	}
	if r.rng.IntN(3) == 0 {
		f.late = advances[r.rng.IntN(len(advances))]
	}
	if r.rng.IntN(3) == 0 {
		f = downFaults{} // healthy again
	}
	return f
}

// client makes one client call in the background: commit, destroy, free or
// describe of a group no other call is busy with, through the manager that
// should lead (mostly) or any other.
func (r *run) client(ctx context.Context) {
	g := groups[r.rng.IntN(len(groups))]
	via := r.rng.IntN(len(r.names))
	if w := r.auth.wanted(); w != "" && r.rng.IntN(5) != 0 {
		for i, n := range r.names {
			if n == w {
				via = i
			}
		}
	}
	var kind invariant.Kind
	switch x := r.rng.IntN(20); {
	case x < 11:
		kind = invariant.Commit
	case x < 16:
		kind = invariant.Destroy
	case x < 19:
		kind = invariant.Free
	default:
		kind = "describe"
	}
	extra := r.rng.IntN(2) == 0
	racing := r.rng.IntN(4) == 0 // a resync racing the call
	r.mu.Lock()
	if r.busy[g] {
		r.mu.Unlock()
		r.rec.step("client: %s busy, skipped", g)
		return
	}
	r.busy[g] = true
	r.version++
	version := fmt.Sprintf("v%d", r.version)
	r.mu.Unlock()
	m := r.manager(via)
	name := r.names[via]
	r.rec.step("client: %s %s %s via %s", kind, g, version, name)
	r.clients.Add(1)
	go func() {
		defer r.clients.Done()
		defer func() { r.mu.Lock(); delete(r.busy, g); r.mu.Unlock() }()
		if racing {
			go m.Recheck("sim: racing a " + string(kind))
		}
		cctx, cancel := context.WithTimeout(ctx, clientWait)
		defer cancel()
		api := m.Group()
		if kind == "describe" {
			_, _ = api.DescribeGroup(cctx, plugin.ID(g))
			return
		}
		q := r.rec.begin(invariant.Request{Group: g, Kind: kind, Version: version, Via: name})
		var err error
		switch kind {
		case invariant.Commit:
			_, err = api.CommitGroup(cctx, invariant.GroupSpec(g, version, extra), false)
		case invariant.Destroy:
			err = api.DestroyGroup(cctx, plugin.ID(g))
		case invariant.Free:
			err = api.FreeGroup(cctx, plugin.ID(g))
		}
		r.rec.answered(q, invariant.Classify(err))
		if err != nil {
			r.rec.step("answer: %s %s %s: %v", kind, g, version, err)
		}
	}()
}

// quiesce stops every fault, makes sure someone should lead, waits for the
// clients and gives the managers the bound to converge; then it checks
// every invariant on the final state.
func (r *run) quiesce(ctx context.Context) {
	r.rec.step("faults stop")
	for i := range r.names {
		r.srcs[i].setFault("")
		r.downs[i].setFaults(downFaults{})
	}
	r.st.setFault(storeOK)
	if r.auth.wanted() == "" {
		w := r.names[r.rng.IntN(len(r.names))]
		r.rec.step("leadership: %q should lead", w)
		r.auth.setWant(w)
	}
	if !r.waitClients(30 * time.Second) {
		r.res.Violations = append(r.res.Violations, invariant.Violation{Rule: invariant.RuleConverged, Detail: "client calls still waiting after 30s"})
		return
	}
	var vs []invariant.Violation
	var frozen int
	check := func() bool {
		h := r.rec.history()
		f, err := r.final()
		if err != nil {
			vs = []invariant.Violation{{Rule: invariant.RuleConverged, Detail: err.Error()}}
			return false
		}
		h.Final = &f
		vs, frozen = invariant.Check(h, rules)
		return len(vs) == 0
	}
	// settled: no waiting helps (a rule on the history, or the store, is
	// broken for good).
	settled := func() bool {
		for _, v := range vs {
			if v.Rule != invariant.RuleConverged && v.Rule != invariant.RuleBounded {
				return true
			}
		}
		return false
	}
	start := r.clock.Now()
	for r.clock.Since(start) < convergeFor && ctx.Err() == nil {
		r.advance(100 * time.Millisecond)
		time.Sleep(r.cfg.Settle)
		if check() {
			r.res.Frozen = frozen
			return
		}
		if settled() {
			for _, v := range vs {
				if v.Rule != invariant.RuleConverged && v.Rule != invariant.RuleBounded {
					r.res.Violations = append(r.res.Violations, v)
				}
			}
			return
		}
	}
	// Past the bound in fake time: give a loaded machine real time (the
	// clock still moving) before calling it a violation.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r.advance(100 * time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if check() {
			r.res.Late, r.res.Frozen = true, frozen
			return
		}
	}
	r.res.Violations = vs
}

// final reads the state the invariants are checked against.
func (r *run) final() (invariant.Final, error) {
	f := invariant.Final{Running: map[string]map[string]string{}, Tracked: map[string]int{}}
	var err error
	if f.Stored, err = r.st.stored(); err != nil {
		return f, err
	}
	w := r.auth.wanted()
	for i, n := range r.names {
		if f.Running[n], err = r.downs[i].running(); err != nil {
			return f, err
		}
		m := r.manager(i)
		if n == w && m.Role() == controller.RoleLeader {
			f.Leader = n
		}
		if mgr, ok := m.Group().(plugin.Manager); ok {
			st, err := mgr.Status(context.Background())
			if err != nil {
				return f, err
			}
			f.Tracked[n] = len(st.Groups)
			if r.debug {
				for _, g := range st.Groups {
					r.rec.step("status %s: %+v", n, g)
				}
			}
		}
	}
	return f, nil
}
