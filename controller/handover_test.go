package controller

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// watcher is a downstream that, at every commit, asks another replica's
// downstream whether it still runs the group: that is an overlap.
type watcher struct {
	*recorder
	other    *recorder
	overlaps atomic.Int32
}

func (w *watcher) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	if !pretend {
		specs, err := w.other.InspectGroups(ctx)
		if err == nil && len(specs) > 0 {
			w.overlaps.Add(1)
		}
	}
	return w.recorder.CommitGroup(ctx, spec, pretend)
}

// pair is two replicas sharing a store and a handover record; a leads.
type pair struct {
	a, b   *env
	watchB *watcher
	rec    *file.Handover
}

const testLease = 400 * time.Millisecond

func newPair(t *testing.T, mode string) *pair {
	t.Helper()
	rec, err := file.NewHandover(t.TempDir())
	require.NoError(t, err)
	p := &pair{rec: rec}
	opts := func(name string) func(*Options) {
		return func(o *Options) {
			o.Name, o.Handover, o.HandoverRecord = name, mode, rec
			o.LeaseDuration, o.RenewInterval, o.CheckTimeout = testLease, 50*time.Millisecond, 200*time.Millisecond
		}
	}
	p.a = newEnv(t, true, opts("a"))
	p.b = newEnv(t, false, opts("b"), func(o *Options) {
		p.watchB = &watcher{recorder: newRecorder(t)}
		o.Downstream = p.watchB
		o.Store = p.a.store
	})
	p.watchB.other = p.a.down
	p.b.down = p.watchB.recorder
	p.a.start(t)
	p.b.start(t)
	_, err = p.a.m.Group().CommitGroup(t.Context(), spec("g", 1), false)
	require.NoError(t, err)
	return p
}

// flip names b the leader; stopA stops a first, so it can never release.
func (p *pair) flip(stopA bool) time.Time {
	if stopA {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.a.m.Stop(ctx)
	}
	at := time.Now()
	p.a.leader.Set(false)
	p.b.leader.Set(true)
	return at
}

func TestHandover(t *testing.T) {
	cases := []struct {
		name        string
		mode        string
		stopA       bool
		seed        func(t *testing.T, rec *file.Handover)
		wantPhase   string // seen while b waits ("" : not checked)
		wantOverlap bool
		minWait     time.Duration
	}{
		{name: "fenced: the old leader frees and releases first", mode: HandoverFenced},
		{name: "fenced: an old leader that cannot release costs the lease", mode: HandoverFenced, stopA: true,
			wantPhase: plugin.HandoverWaitingRelease, wantOverlap: true, minWait: testLease},
		{name: "fast: acts at once beside a stopped old leader", mode: HandoverFast, stopA: true, wantOverlap: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, c.mode)
			eventually(t, func() bool { return len(p.a.running(t)) == 1 }, "a runs g")
			at := p.flip(c.stopA)
			if c.wantPhase != "" {
				eventually(t, func() bool {
					st, err := p.b.m.f.Status(t.Context())
					return err == nil && st.Handover != nil && st.Handover.Phase == c.wantPhase && !st.Healthy
				}, "b's status shows the handover in progress")
			}
			eventually(t, func() bool { return p.b.down.count(p.b.down.commits, "g") == 1 }, "b commits g")
			require.GreaterOrEqual(t, time.Since(at), c.minWait, "b acted before a's lease could have run out")
			if !c.wantOverlap {
				require.Zero(t, p.watchB.overlaps.Load(), "b committed while a still ran g")
			}
			st, err := p.b.m.f.Status(t.Context())
			require.NoError(t, err)
			require.NotNil(t, st.Handover)
			require.Equal(t, plugin.HandoverDone, st.Handover.Phase)
			require.Equal(t, c.mode, st.Handover.Mode)
		})
	}
}

// TestHandoverStaleReleaseIsNotARelease: the record holds an earlier term
// released long ago and a later one whose holder never released; the new
// leader waits for the lease, not for the stale release.
func TestHandoverStaleReleaseIsNotARelease(t *testing.T) {
	rec, err := file.NewHandover(t.TempDir())
	require.NoError(t, err)
	ctx := t.Context()
	_, n, err := rec.Claim(ctx, "x", "gone-1")
	require.NoError(t, err)
	require.NoError(t, rec.Release(ctx, n, "gone-1", true))
	_, _, err = rec.Claim(ctx, "y", "gone-2") // never released: crashed
	require.NoError(t, err)

	e := newEnv(t, false, func(o *Options) {
		o.Handover, o.HandoverRecord = HandoverFenced, rec
		o.LeaseDuration, o.RenewInterval, o.CheckTimeout = testLease, 50*time.Millisecond, 200*time.Millisecond
	})
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{"g": {Plugin: "group", Properties: mustJSON(t, spec("g", 1))}}}
	_, err = e.store.Save(ctx, cfg, "")
	require.NoError(t, err)
	e.start(t)
	at := time.Now()
	e.leader.Set(true)
	eventually(t, func() bool {
		st, err := e.m.f.Status(ctx)
		return err == nil && st.Handover != nil && st.Handover.Phase == plugin.HandoverWaitingRelease &&
			st.Handover.Reason == "term 2 of y not released yet"
	}, "waits for term 2, not satisfied by term 1's release")
	eventually(t, func() bool { return e.down.count(e.down.commits, "g") == 1 }, "commits once the lease ran out")
	require.GreaterOrEqual(t, time.Since(at), testLease)
}

// TestHandoverOptions: --handover takes fenced or fast only.
func TestHandoverOptions(t *testing.T) {
	o := DefaultOptions()
	o.Leadership, o.Store = sourcestest.NewStaticLeadership(true), sourcestest.NewMemStore()
	require.Equal(t, HandoverFenced, o.Handover)
	require.NoError(t, o.Validate())
	o.Handover = "quick"
	require.ErrorContains(t, o.Validate(), `Handover must be "fenced" or "fast", got "quick"`)
	o.Handover, o.HandoverMargin = HandoverFast, 0
	require.ErrorContains(t, o.Validate(), "HandoverMargin must be > 0, got 0s")
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestHandoverCommitWaitsForTheHandover: a commit to a new leader whose
// handover waits is stored, then carried out and answered once the wait
// ends, not answered "not applied".
func TestHandoverCommitWaitsForTheHandover(t *testing.T) {
	p := newPair(t, HandoverFenced)
	eventually(t, func() bool { return len(p.a.running(t)) == 1 }, "a runs g")
	at := p.flip(true)
	eventually(t, func() bool { return p.b.m.Role() == RoleLeader }, "b leads")
	details, err := p.b.m.Group().CommitGroup(t.Context(), spec("h", 1), false)
	require.NoError(t, err)
	require.Equal(t, "Managing 1 instances", details)
	require.GreaterOrEqual(t, time.Since(at), testLease, "applied before a's lease could have run out")
	require.Equal(t, 1, p.b.down.count(p.b.down.commits, "h"))
}
