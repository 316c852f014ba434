package front_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/controller/front/fronttest"
	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
)

var (
	_ front.Reconciler = (*fronttest.Reconciler)(nil)
	_ front.Lease      = fronttest.Lease{}
	_ front.Downstream = (*fronttest.Downstream)(nil)
	_ front.Locator    = fronttest.Locator{}
	_ front.Health     = fronttest.Health{}
)

func newFront(t *testing.T, role lease.Role, r *fronttest.Reconciler, d *fronttest.Downstream) *front.Front {
	t.Helper()
	o := front.DefaultOptions()
	o.Reconciler, o.Lease, o.Downstream, o.Locator = r, fronttest.Lease{V: lease.View{Role: role, Term: 3}}, d, fronttest.Locator{}
	o.Name, o.PluginName = "group", "group-stateless"
	f, err := front.New(o)
	require.NoError(t, err)
	return f
}

func aSpec(id plugin.ID) plugin.Spec {
	return plugin.Spec{ID: id, Properties: json.RawMessage(`{"Allocation":{"Size":1}}`)}
}

// A follower answers not-a-leader to every change and hands nothing to the
// reconciler.
func TestFront_FollowerSubmitsNothing(t *testing.T) {
	r, d := &fronttest.Reconciler{}, &fronttest.Downstream{}
	f := newFront(t, lease.RoleFollower, r, d)
	ctx := t.Context()
	_, err := f.CommitGroup(ctx, aSpec("g"), false)
	require.ErrorIs(t, err, lease.ErrNotLeader)
	require.ErrorIs(t, f.FreeGroup(ctx, "g"), lease.ErrNotLeader)
	require.ErrorIs(t, f.DestroyGroup(ctx, "g"), lease.ErrNotLeader)
	require.Empty(t, r.Changes())
	require.Zero(t, d.Pretends())
}

// A commit is validated locally, then by a pretend commit, and handed to
// the reconciler as one Change carrying the pretend's verdict; a pretend
// request goes to the downstream only.
func TestFront_CommitIsOneSubmittedChange(t *testing.T) {
	r := &fronttest.Reconciler{Answer: func(c submit.Change) (submit.Receipt, error) {
		if err := <-c.Validated; err != nil {
			return submit.Receipt{}, &submit.RejectedError{Err: err}
		}
		return submit.Receipt{Outcome: submit.Outcome{Details: "Managing 1 instances"}}, nil
	}}
	d := &fronttest.Downstream{}
	f := newFront(t, lease.RoleLeader, r, d)
	ctx := t.Context()

	details, err := f.CommitGroup(ctx, aSpec("g"), true)
	require.NoError(t, err)
	require.Equal(t, "pretend ok", details)
	require.Empty(t, r.Changes(), "a pretend commit changes nothing")

	details, err = f.CommitGroup(ctx, aSpec("g"), false)
	require.NoError(t, err)
	require.Equal(t, "Managing 1 instances", details)
	changes := r.Changes()
	require.Len(t, changes, 1)
	require.Equal(t, submit.Commit, changes[0].Op)
	require.Equal(t, plugin.ID("g"), changes[0].ID)
	require.Equal(t, "group-stateless", changes[0].Entry.Plugin)
	require.Equal(t, 2, d.Pretends(), "the pretend request, then the commit's validation")

	_, err = f.CommitGroup(ctx, plugin.Spec{}, false)
	require.ErrorIs(t, err, front.ErrInvalidSpec)
	require.Len(t, r.Changes(), 1, "an invalid spec is not submitted")

	d.Verdict = &plugin.RPCError{Code: -32000, Message: "bad flavor"}
	_, err = f.CommitGroup(ctx, aSpec("h"), false)
	require.ErrorContains(t, err, "bad flavor", "the plugin's own words")
}

// Free and destroy are one Change each; the reconciler's outcome is worded
// for the user.
func TestFront_FreeAndDestroyAreSubmitted(t *testing.T) {
	r := &fronttest.Reconciler{Answer: func(c submit.Change) (submit.Receipt, error) {
		if c.Op == submit.Destroy {
			return submit.Receipt{WasStored: true, Pending: true, Outcome: submit.Outcome{Err: lease.ErrNotLeader}}, nil
		}
		return submit.Receipt{WasStored: true}, nil
	}}
	f := newFront(t, lease.RoleLeader, r, &fronttest.Downstream{})
	require.NoError(t, f.FreeGroup(t.Context(), "g"))
	err := f.DestroyGroup(t.Context(), "g")
	require.ErrorIs(t, err, lease.ErrNotLeader)
	require.ErrorContains(t, err, "recorded in the store")
	var ops []submit.Op
	for _, c := range r.Changes() {
		ops = append(ops, c.Op)
	}
	require.Equal(t, []submit.Op{submit.Free, submit.Destroy}, ops)
}

// Status reports the lease's view and the reconciler's snapshot, and is
// unhealthy on any problem either reports.
func TestFront_StatusReadsTheSnapshot(t *testing.T) {
	r := &fronttest.Reconciler{Snap: submit.Snapshot{
		Stored: 2, Version: "v7", StoredIDs: []plugin.ID{"a", "b"}, Groups: []plugin.GroupStatus{},
		StoreErr: errors.New("disk gone"), Problems: []string{"claim not checked: x"},
	}}
	o := front.DefaultOptions()
	o.Reconciler, o.Lease, o.Downstream, o.Locator = r, fronttest.Lease{V: lease.View{Role: lease.RoleLeader, Term: 3}}, &fronttest.Downstream{}, fronttest.Locator{}
	o.Health = fronttest.Health{"misconfiguration: claim held"}
	f, err := front.New(o)
	require.NoError(t, err)
	st, err := f.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, plugin.RoleLeader, st.Role)
	require.Equal(t, uint64(3), st.Term)
	require.Equal(t, 2, st.GroupCount)
	require.Equal(t, "v7", st.Store.Version)
	require.Equal(t, []plugin.ID{"a", "b"}, st.Stored)
	require.Equal(t, []string{"store unreadable: disk gone", "claim not checked: x", "misconfiguration: claim held"}, st.Problems,
		"the reconciler's problems, then the daemon's")
	require.False(t, st.Healthy)
}
