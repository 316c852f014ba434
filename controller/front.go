package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// front is the Group API the manager serves under its --name. Writes go to
// the store first (durably), then downstream; the reconcile loop backs up
// every downstream step.
type front struct {
	r          *reconciler
	pluginName string // recorded in stored entries, as the original did
	log        logr.Logger
}

var _ plugin.Group = (*front)(nil)

// leaderTerm returns the current term's context, or ErrNotLeader.
func (f *front) leaderTerm() (context.Context, error) {
	leader, lctx := f.r.state.isLeader()
	if !leader || lctx.Err() != nil {
		return nil, ErrNotLeader
	}
	return lctx, nil
}

// CommitGroup validates the spec (locally, then with a pretend commit
// downstream), stores it durably, commits it downstream and returns the
// downstream's details. Pretend only forwards. Followers answer not-a-leader.
func (f *front) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	lctx, err := f.leaderTerm()
	if err != nil {
		return "", err
	}
	if err := validateSpec(spec); err != nil {
		return "", err
	}
	ctx, cancel := mergeCancel(ctx, lctx)
	defer cancel()
	if pretend {
		return f.r.down.CommitGroup(ctx, spec, true)
	}
	entry, err := entryFor(spec, f.pluginName)
	if err != nil {
		return "", err
	}

	unlock := f.r.locks.lock(spec.ID)
	defer unlock()

	// An invalid spec is rejected here and never stored (the original stored
	// it and then failed every later leadership gain on it).
	if _, err := f.r.down.CommitGroup(ctx, spec, true); err != nil {
		return "", f.rejected(spec.ID, err)
	}
	if err := f.r.w.write(ctx, spec.ID, func(cfg *sources.Config) { cfg.Groups[spec.ID] = entry }); err != nil {
		return "", err
	}
	f.log.Info("stored group", "group", spec.ID)
	// Only the real commit holds ops: a leadership-loss sync waits for it
	// (not for validation or the store) before it observes and frees.
	f.r.ops.RLock()
	details, err := f.r.down.CommitGroup(ctx, spec, false)
	f.r.ops.RUnlock()
	if err != nil {
		f.r.queue.AddRateLimited(spec.ID)
		return "", fmt.Errorf("group %s is stored and will be applied when the downstream accepts it (%w): %w",
			spec.ID, ErrNotApplied, err)
	}
	f.r.state.observe(spec)
	return details, nil
}

// rejected explains a failed validation: the plugin's own words when it
// answered, a clear "nothing stored" when it could not be asked.
func (f *front) rejected(id plugin.ID, err error) error {
	var rpcErr *plugin.RPCError
	if errors.As(err, &rpcErr) {
		return err
	}
	return fmt.Errorf("cannot validate group %s, nothing stored: %w", id, err)
}

// FreeGroup removes the group from the store, then frees it downstream:
// its instances keep running, unmanaged.
func (f *front) FreeGroup(ctx context.Context, id plugin.ID) error {
	return f.remove(ctx, id, "free", f.r.down.FreeGroup)
}

// DestroyGroup removes the group from the store, then destroys it
// downstream. A destroyed group never comes back on a later leadership gain.
func (f *front) DestroyGroup(ctx context.Context, id plugin.ID) error {
	return f.remove(ctx, id, "destroy", f.r.down.DestroyGroup)
}

func (f *front) remove(ctx context.Context, id plugin.ID, op string, call func(context.Context, plugin.ID) error) error {
	lctx, err := f.leaderTerm()
	if err != nil {
		return err
	}
	ctx, cancel := mergeCancel(ctx, lctx)
	defer cancel()
	unlock := f.r.locks.lock(id)
	defer unlock()

	stored := false
	if err := f.r.w.write(ctx, id, func(cfg *sources.Config) {
		_, stored = cfg.Groups[id]
		delete(cfg.Groups, id)
	}); err != nil {
		return err
	}
	if stored {
		f.log.Info("removed group from store", "group", id, "op", op)
	}
	err = call(ctx, id)
	switch {
	case err == nil:
	case notWatched(err) && stored:
		// Stored but not running here: removing it from the store was the job.
	case notWatched(err):
		return err // neither stored nor running: the plugin's own answer
	default:
		f.r.queue.AddRateLimited(id)
		return fmt.Errorf("group %s removed from the store; %s downstream failed, will retry: %w", id, op, err)
	}
	f.r.state.unobserve(id)
	return nil
}

// storeErr marks an error from the store for the user.
func storeErr(err error) error {
	if errors.Is(err, ErrNotLeader) {
		return err
	}
	return fmt.Errorf("store: %w", err)
}

// DescribeGroup is answered by this replica's downstream.
func (f *front) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	return f.r.down.DescribeGroup(ctx, id)
}

// InspectGroups answers the stored specs, on every replica: the store is
// shared, so followers and the leader agree on what is committed.
func (f *front) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	cfg, _, err := f.r.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	good, bad := specsOf(cfg)
	for id, err := range bad {
		f.log.Error(err, "stored group skipped", "group", id)
	}
	return sortedSpecs(good), nil
}
