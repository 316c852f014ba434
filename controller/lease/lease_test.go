package lease

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// leaseFixture is a lease over a StaticLeadership on a fake clock, with the
// role changes it reported.
type leaseFixture struct {
	l   *Lease
	src *sourcestest.StaticLeadership
	clk *clocktesting.FakeClock

	mu      sync.Mutex
	changes []Change
}

func newLeaseFixture(t *testing.T, leader bool) *leaseFixture {
	t.Helper()
	f := &leaseFixture{src: sourcestest.NewStaticLeadership(leader), clk: clocktesting.NewFakeClock(time.Now())}
	f.l = New(f.src, Options{
		Duration: 2 * time.Second, RenewInterval: 250 * time.Millisecond, CheckTimeout: 100 * time.Millisecond,
		Clock: f.clk, Log: testr.New(t),
	}, func(c Change) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.changes = append(f.changes, c)
	})
	return f
}

func (f *leaseFixture) check(t *testing.T) error {
	t.Helper()
	return f.l.CheckNow(context.Background())
}

func (f *leaseFixture) roles() []Role {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Role
	for _, c := range f.changes {
		out = append(out, c.Role)
	}
	return out
}

func TestLease_UnknownAtStartActsOnNothingThenFollows(t *testing.T) {
	f := newLeaseFixture(t, true)
	f.src.SetError(errors.New("open leader: too many open files"))
	require.Error(t, f.check(t))
	require.Equal(t, RoleUnknown, f.l.View().Role)
	f.clk.Step(1999 * time.Millisecond)
	f.l.tick()
	require.Equal(t, RoleUnknown, f.l.View().Role, "unknown is not no: held for the lease")
	f.clk.Step(time.Millisecond)
	f.l.tick()
	require.Equal(t, RoleFollower, f.l.View().Role)
	require.Equal(t, []Role{RoleFollower}, f.roles())
}

func TestLease_UnknownHoldsTheLeaderForTheLeaseOnly(t *testing.T) {
	f := newLeaseFixture(t, true)
	require.NoError(t, f.check(t))
	require.Equal(t, RoleLeader, f.l.View().Role)
	term := f.l.View().TermCtx

	f.src.SetError(errors.New("open leader: too many open files"))
	for range 7 { // 1.75 s of failed renewals
		f.clk.Step(250 * time.Millisecond)
		require.Error(t, f.check(t))
		f.l.tick()
	}
	require.Equal(t, RoleLeader, f.l.View().Role, "a blip shorter than the lease is ridden out")
	require.NoError(t, term.Err())
	f.clk.Step(250 * time.Millisecond)
	f.l.tick()
	require.Equal(t, RoleFollower, f.l.View().Role, "stepped down when the lease ran out")
	require.Error(t, term.Err(), "the term's context is cancelled")
	require.Equal(t, []Role{RoleLeader, RoleFollower}, f.roles())
	require.Contains(t, f.changes[1].Reason, "too many open files")
}

func TestLease_NotLeaderEndsTheTermAtOnce(t *testing.T) {
	f := newLeaseFixture(t, true)
	require.NoError(t, f.check(t))
	f.src.SetStatus(sources.Status{Holder: "group2"})
	require.NoError(t, f.check(t))
	require.Equal(t, RoleFollower, f.l.View().Role)
	require.Contains(t, f.changes[1].Reason, "group2 leads")
}

// The gate window is one renewal: a confirmation older than one renewal
// interval (a tick's check has not answered yet, or was missed) is
// re-checked before a change (it was two renewals before).
func TestLease_GateWindowIsOneRenewal(t *testing.T) {
	f := newLeaseFixture(t, true)
	require.NoError(t, f.check(t))
	checks := f.src.Checks()
	f.clk.Step(f.l.o.RenewInterval + time.Millisecond)
	tm, err := f.l.Confirm(context.Background())
	require.NoError(t, err)
	tm.Release()
	require.Equal(t, checks+1, f.src.Checks(), "a confirmation older than one renewal is re-checked first")
}

// A leader whose last confirmation is older than one renewal re-checks
// before it acts: the frozen process that wakes after another replica took
// over must not act on its stale confirmation.
func TestLease_ConfirmRechecksAStaleConfirmation(t *testing.T) {
	f := newLeaseFixture(t, true)
	require.NoError(t, f.check(t))
	checks := f.src.Checks()

	tm, err := f.l.Confirm(context.Background())
	require.NoError(t, err, "a fresh confirmation is acted on")
	tm.Release()
	require.Equal(t, checks, f.src.Checks(), "without a check")

	// Frozen for 1 s (less than the lease) while the leader file changed.
	f.src.SetStatus(sources.Status{Holder: "group2"})
	f.clk.Step(time.Second)
	_, err = f.l.Confirm(context.Background())
	require.ErrorIs(t, err, ErrNotLeader)
	require.Equal(t, checks+1, f.src.Checks(), "re-checked before acting")
	require.Equal(t, RoleFollower, f.l.View().Role)
}

func TestLease_ConfirmOnUnknownActsOnlyWithinTheLease(t *testing.T) {
	f := newLeaseFixture(t, true)
	require.NoError(t, f.check(t))
	f.src.SetError(errors.New("slow disk"))
	f.clk.Step(time.Second)
	tm, err := f.l.Confirm(context.Background())
	require.NoError(t, err, "unknown, but the confirmation is younger than the lease")
	tm.Release()
	f.clk.Step(time.Second)
	_, err = f.l.Confirm(context.Background())
	require.ErrorIs(t, err, ErrNotLeader, "unknown and the lease ran out")
	require.Equal(t, RoleFollower, f.l.View().Role)
}

func TestLease_SourceExpiryIsHonoured(t *testing.T) {
	f := newLeaseFixture(t, true)
	f.src.SetStatus(sources.Status{Leader: true, Holder: "me", Expires: f.clk.Now().Add(300 * time.Millisecond)})
	require.NoError(t, f.check(t))
	require.Equal(t, RoleLeader, f.l.View().Role)
	f.src.SetError(errors.New("etcd unreachable"))
	f.clk.Step(300 * time.Millisecond)
	f.l.tick()
	require.Equal(t, RoleFollower, f.l.View().Role, "the source's own expiry comes before the lease")
}

func TestLease_HungChecksNeverBlockAndAreBounded(t *testing.T) {
	f := newLeaseFixture(t, true)
	require.NoError(t, f.check(t))
	f.src.SetHang(true)
	start := time.Now()
	err := f.check(t)
	require.ErrorContains(t, err, "did not answer within 100ms")
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, RoleLeader, f.l.View().Role, "one hung check is unknown, not no")

	// Checks that ignore their deadline pile up to maxChecks, no more.
	ignoring := &ignoringLeadership{release: make(chan struct{})}
	stuck := New(ignoring, f.l.o, func(Change) {})
	ctx, cancel := context.WithCancel(context.Background())
	stuck.SetBase(ctx)
	for range maxChecks + 3 {
		stuck.start()
	}
	require.Eventually(t, func() bool { return ignoring.running() == maxChecks }, 5*time.Second, time.Millisecond)
	require.Nil(t, stuck.start(), "no check beyond the bound")
	cancel() // their answers are dropped
	close(ignoring.release)
	require.Eventually(t, func() bool { stuck.mu.Lock(); defer stuck.mu.Unlock(); return stuck.running == 0 }, 5*time.Second, time.Millisecond)
}

// ignoringLeadership's Check ignores its context until released.
type ignoringLeadership struct {
	sourcestest.StaticLeadership
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (i *ignoringLeadership) Check(context.Context) (sources.Status, error) {
	i.mu.Lock()
	i.n++
	i.mu.Unlock()
	<-i.release
	return sources.Status{Leader: true}, nil
}

func (i *ignoringLeadership) running() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.n
}
