package front

import (
	"context"
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
)

// Front is the Group API (and the Manager API, status.go) the manager
// serves under its --name. It never changes the downstream itself: it
// validates (locally, then with a pretend commit), and hands every write to
// the reconciler through Reconciler.Submit, which stores it durably,
// records the user's intent, and answers with the reconciler's result.
type Front struct {
	r    Reconciler
	l    Lease
	down Downstream
	loc  Locator
	o    Options
}

var (
	_ plugin.Group            = (*Front)(nil)
	_ plugin.EncodedInspector = (*Front)(nil)
	_ plugin.Manager          = (*Front)(nil)
)

// New builds the front over its four parts; o must pass Validate.
func New(o Options) (*Front, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Front{r: o.Reconciler, l: o.Lease, down: o.Downstream, loc: o.Locator, o: o}, nil
}

// leading answers lease.ErrNotLeader unless this replica leads.
func (f *Front) leading() error {
	if f.l.View().Role != lease.RoleLeader {
		return lease.ErrNotLeader
	}
	return nil
}

// CommitGroup validates the spec (locally, then with a pretend commit
// downstream), stores it durably, has the reconciler commit it and returns
// the downstream's details. Pretend only validates. Followers answer
// not-a-leader.
func (f *Front) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	if err := f.leading(); err != nil {
		return "", err
	}
	if err := validateSpec(spec); err != nil {
		return "", err
	}
	if pretend {
		return f.down.CommitGroup(ctx, spec, true)
	}
	entry, err := EntryFor(spec, f.o.PluginName)
	if err != nil {
		return "", err
	}
	// An invalid spec is rejected by the plugin's pretend commit and never
	// stored (the original stored it and then failed every later leadership
	// gain on it). The pretend commit runs while the write is prepared.
	validated := make(chan error, 1)
	go func() {
		_, err := f.down.CommitGroup(ctx, spec, true)
		validated <- err
	}()
	rc, err := f.r.Submit(ctx, submit.Change{ID: spec.ID, Op: submit.Commit, Entry: entry, Validated: validated})
	if err != nil {
		var rej *submit.RejectedError
		if errors.As(err, &rej) {
			return "", f.rejected(spec.ID, rej.Err)
		}
		return "", err
	}
	if rc.Pending {
		f.o.Log.Info("stored group; it supersedes the pending destroy", "group", spec.ID)
	} else {
		f.o.Log.Info("stored group", "group", spec.ID)
	}
	out := rc.Outcome
	switch {
	case out.Err == nil:
		return out.Details, nil
	case errors.Is(out.Err, lease.ErrNotLeader):
		return "", fmt.Errorf("group %s is stored; leadership was lost before it was applied (%w)", spec.ID, lease.ErrNotLeader)
	case errors.Is(out.Err, submit.ErrNotApplied):
		return "", fmt.Errorf("group %s is stored and will be applied when the downstream accepts it: %w", spec.ID, out.Err)
	}
	return "", fmt.Errorf("group %s is stored and will be applied when the downstream accepts it (%w): %w",
		spec.ID, submit.ErrNotApplied, out.Err)
}

// rejected explains a failed validation: the plugin's own words when it
// answered, a clear "nothing stored" when it could not be asked.
func (f *Front) rejected(id plugin.ID, err error) error {
	var rpcErr *plugin.RPCError
	// A plugin that gave up on the call's deadline (it is told the deadline)
	// has not judged the spec: that is "cannot validate", not its verdict.
	if errors.As(err, &rpcErr) && !errors.Is(err, plugin.ErrGaveUp) {
		return err
	}
	return fmt.Errorf("cannot validate group %s, nothing stored: %w", id, err)
}

// FreeGroup removes the group from the store and has the reconciler free
// it downstream: its instances keep running, unmanaged. A group whose
// destroy is pending is not freed: the destroy stays and is carried out.
func (f *Front) FreeGroup(ctx context.Context, id plugin.ID) error {
	if err := f.leading(); err != nil {
		return err
	}
	rc, err := f.r.Submit(ctx, submit.Change{ID: id, Op: submit.Free})
	switch {
	case err != nil:
		return err
	case rc.Pending:
		return fmt.Errorf("group %s has a pending destroy, which a free does not cancel: it will be destroyed (%w)", id, ErrDestroyPending)
	case rc.WasStored:
		f.o.Log.Info("removed group from store", "group", id, "op", submit.Free.String())
	}
	out := rc.Outcome
	switch {
	case out.Err == nil:
		return nil
	case submit.NotWatched(out.Err):
		return errors.Unwrap(out.Err) // neither stored nor running: the plugin's own answer
	case errors.Is(out.Err, lease.ErrNotLeader):
		return fmt.Errorf("group %s removed from the store; leadership was lost before the free downstream (%w)", id, lease.ErrNotLeader)
	}
	return fmt.Errorf("group %s removed from the store; free downstream failed, will retry: %w", id, out.Err)
}

// DestroyGroup moves the group's stored entry to the store's pending
// destroys (one durable save) and has the reconciler destroy it
// downstream. The destroy stays recorded until the downstream destroy
// succeeds, whichever manager leads by then (after a handover, a restart or
// a crash); a later commit of the same ID supersedes it. The caller gets nil
// only once the downstream destroyed the group, otherwise an error saying
// that the destroy is recorded and will be carried out.
func (f *Front) DestroyGroup(ctx context.Context, id plugin.ID) error {
	if err := f.leading(); err != nil {
		return err
	}
	rc, err := f.r.Submit(ctx, submit.Change{ID: id, Op: submit.Destroy})
	if err != nil {
		return err
	}
	if rc.WasStored {
		f.o.Log.Info("recorded the destroy of the group in the store", "group", id)
	}
	out := rc.Outcome
	switch {
	case out.Err == nil:
		return nil
	case submit.NotWatched(out.Err) && !rc.Pending:
		return errors.Unwrap(out.Err) // neither stored nor running: the plugin's own answer
	case errors.Is(out.Err, submit.ErrSuperseded):
		return fmt.Errorf("group %s: the destroy was superseded by a later request for the group (a commit keeps it): %w", id, out.Err)
	case !rc.Pending:
		return fmt.Errorf("group %s is not stored; destroy downstream failed: %w", id, out.Err)
	case errors.Is(out.Err, lease.ErrNotLeader):
		return fmt.Errorf("group %s: the destroy is recorded in the store and will be carried out by the next leader; leadership was lost before it was (%w)", id, lease.ErrNotLeader)
	}
	return fmt.Errorf("group %s: the destroy is recorded in the store and will be carried out; the destroy downstream failed, will retry: %w", id, out.Err)
}

// DescribeGroup is answered by this replica's downstream.
func (f *Front) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	return f.down.DescribeGroup(ctx, id)
}

// InspectGroups answers the stored specs, on every replica: the store is
// shared, so followers and the leader agree on what is committed. It is a
// read: the reconciler answers it from memory while the store is unchanged.
func (f *Front) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	return f.r.Stored(ctx)
}

// InspectGroupsEncoded is InspectGroups for the server, encoded once per
// store version and kept: while the store is unchanged an answer costs the
// store's version check and writing the kept bytes.
func (f *Front) InspectGroupsEncoded(ctx context.Context) (plugin.EncodedSpecs, error) {
	return f.r.StoredEncoded(ctx)
}
