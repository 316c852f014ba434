package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/plugin"
)

// front is the Group API the manager serves under its --name. It never
// changes the downstream itself: it validates (locally, then with a pretend
// commit), writes the store durably, records the user's intent for the
// group, enqueues it and waits for the reconciler's result to answer.
type front struct {
	r             *reconciler
	name          string // --name, for Status
	mode          string // for Status
	storeLocation string // for Status
	pluginName    string // recorded in stored entries, as the original did
	applyWait     time.Duration
	log           logr.Logger
	loc           *locator // where the leader is (location.go)
}

var (
	_ plugin.Group            = (*front)(nil)
	_ plugin.EncodedInspector = (*front)(nil)
)

// leading answers ErrNotLeader unless this replica leads.
func (f *front) leading() error {
	if f.r.lease.view().Role != RoleLeader {
		return ErrNotLeader
	}
	return nil
}

// CommitGroup validates the spec (locally, then with a pretend commit
// downstream), stores it durably, has the reconciler commit it and returns
// the downstream's details. Pretend only validates. Followers answer
// not-a-leader.
func (f *front) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	if err := f.leading(); err != nil {
		return "", err
	}
	if err := validateSpec(spec); err != nil {
		return "", err
	}
	if pretend {
		return f.r.down.CommitGroup(ctx, spec, true)
	}
	entry, err := entryFor(spec, f.pluginName)
	if err != nil {
		return "", err
	}
	// An invalid spec is rejected by the plugin's pretend commit and never
	// stored (the original stored it and then failed every later leadership
	// gain on it). The pretend commit runs while the write is prepared.
	validated := make(chan error, 1)
	go func() {
		_, err := f.r.down.CommitGroup(ctx, spec, true)
		validated <- err
	}()
	rc, err := f.r.submit(ctx, change{id: spec.ID, op: opCommit, entry: entry, validated: validated}, f.applyWait)
	if err != nil {
		var rej *rejectedError
		if errors.As(err, &rej) {
			return "", f.rejected(spec.ID, rej.err)
		}
		return "", err
	}
	if rc.pending {
		f.log.Info("stored group; it supersedes the pending destroy", "group", spec.ID)
	} else {
		f.log.Info("stored group", "group", spec.ID)
	}
	out := rc.out
	switch {
	case out.err == nil:
		return out.details, nil
	case errors.Is(out.err, ErrNotLeader):
		return "", fmt.Errorf("group %s is stored; leadership was lost before it was applied (%w)", spec.ID, ErrNotLeader)
	case errors.Is(out.err, ErrNotApplied):
		return "", fmt.Errorf("group %s is stored and will be applied when the downstream accepts it: %w", spec.ID, out.err)
	}
	return "", fmt.Errorf("group %s is stored and will be applied when the downstream accepts it (%w): %w",
		spec.ID, ErrNotApplied, out.err)
}

// rejected explains a failed validation: the plugin's own words when it
// answered, a clear "nothing stored" when it could not be asked.
func (f *front) rejected(id plugin.ID, err error) error {
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
func (f *front) FreeGroup(ctx context.Context, id plugin.ID) error {
	if err := f.leading(); err != nil {
		return err
	}
	rc, err := f.r.submit(ctx, change{id: id, op: opFree}, f.applyWait)
	switch {
	case err != nil:
		return err
	case rc.pending:
		return fmt.Errorf("group %s has a pending destroy, which a free does not cancel: it will be destroyed (%w)", id, ErrDestroyPending)
	case rc.wasStored:
		f.log.Info("removed group from store", "group", id, "op", opFree.String())
	}
	out := rc.out
	switch {
	case out.err == nil:
		return nil
	case notWatched(out.err):
		return errors.Unwrap(out.err) // neither stored nor running: the plugin's own answer
	case errors.Is(out.err, ErrNotLeader):
		return fmt.Errorf("group %s removed from the store; leadership was lost before the free downstream (%w)", id, ErrNotLeader)
	}
	return fmt.Errorf("group %s removed from the store; free downstream failed, will retry: %w", id, out.err)
}

// DestroyGroup moves the group's stored entry to the store's pending
// destroys (one durable save) and has the reconciler destroy it
// downstream. The destroy stays recorded until the downstream destroy
// succeeds, whichever manager leads by then (after a handover, a restart or
// a crash); a later commit of the same ID supersedes it. The caller gets nil
// only once the downstream destroyed the group, otherwise an error saying
// that the destroy is recorded and will be carried out.
func (f *front) DestroyGroup(ctx context.Context, id plugin.ID) error {
	if err := f.leading(); err != nil {
		return err
	}
	rc, err := f.r.submit(ctx, change{id: id, op: opDestroy}, f.applyWait)
	if err != nil {
		return err
	}
	if rc.wasStored {
		f.log.Info("recorded the destroy of the group in the store", "group", id)
	}
	out := rc.out
	switch {
	case out.err == nil:
		return nil
	case notWatched(out.err) && !rc.pending:
		return errors.Unwrap(out.err) // neither stored nor running: the plugin's own answer
	case errors.Is(out.err, errSuperseded):
		return fmt.Errorf("group %s: the destroy was superseded by a later request for the group (a commit keeps it): %w", id, out.err)
	case !rc.pending:
		return fmt.Errorf("group %s is not stored; destroy downstream failed: %w", id, out.err)
	case errors.Is(out.err, ErrNotLeader):
		return fmt.Errorf("group %s: the destroy is recorded in the store and will be carried out by the next leader; leadership was lost before it was (%w)", id, ErrNotLeader)
	}
	return fmt.Errorf("group %s: the destroy is recorded in the store and will be carried out; the destroy downstream failed, will retry: %w", id, out.err)
}

// DescribeGroup is answered by this replica's downstream.
func (f *front) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	return f.r.down.DescribeGroup(ctx, id)
}

// InspectGroups answers the stored specs, on every replica: the store is
// shared, so followers and the leader agree on what is committed. While the
// store is unchanged the answer comes from memory.
func (f *front) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	cfg, v, err := f.r.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if specs, ok := f.r.desired.inspect(v); ok {
		return specs, nil
	}
	good, bad := specsOf(cfg)
	for id, err := range bad {
		f.log.Error(err, "stored group skipped", "group", id)
	}
	return sortedSpecs(good), nil
}

// InspectGroupsEncoded is InspectGroups for the server, encoded once per
// store version and kept: while the store is unchanged an answer costs the
// store's version check and writing the kept bytes.
func (f *front) InspectGroupsEncoded(ctx context.Context) (plugin.EncodedSpecs, error) {
	_, v, err := f.r.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	enc, ok, err := f.r.desired.inspectEncoded(v)
	if ok || err != nil {
		return enc, err
	}
	specs, err := f.InspectGroups(ctx)
	if err != nil {
		return nil, err
	}
	return plugin.EncodeSpecs(specs)
}
