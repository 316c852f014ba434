package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
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
	since := f.r.obs.mark()
	if err := f.r.w.write(spec.ID, func(cfg *sources.Config) { cfg.Groups[spec.ID] = entry }, validated); err != nil {
		var rej *rejectedError
		if errors.As(err, &rej) {
			return "", f.rejected(spec.ID, rej.err)
		}
		return "", err
	}
	f.log.Info("stored group", "group", spec.ID)
	out := f.await(ctx, spec.ID, opCommit, true, since)
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
	if errors.As(err, &rpcErr) {
		return err
	}
	return fmt.Errorf("cannot validate group %s, nothing stored: %w", id, err)
}

// FreeGroup removes the group from the store and has the reconciler free
// it downstream: its instances keep running, unmanaged.
func (f *front) FreeGroup(ctx context.Context, id plugin.ID) error {
	return f.remove(ctx, id, opFree)
}

// DestroyGroup removes the group from the store and has the reconciler
// destroy it downstream, retrying until it succeeds or leadership ends. A
// destroyed group never comes back on a later leadership gain.
func (f *front) DestroyGroup(ctx context.Context, id plugin.ID) error {
	return f.remove(ctx, id, opDestroy)
}

func (f *front) remove(ctx context.Context, id plugin.ID, o op) error {
	if err := f.leading(); err != nil {
		return err
	}
	stored := false
	since := f.r.obs.mark()
	if err := f.r.w.write(id, func(cfg *sources.Config) {
		_, stored = cfg.Groups[id]
		delete(cfg.Groups, id)
	}, nil); err != nil {
		return err
	}
	if stored {
		f.log.Info("removed group from store", "group", id, "op", o.String())
	}
	out := f.await(ctx, id, o, stored, since)
	switch {
	case out.err == nil:
		return nil
	case notWatched(out.err):
		return errors.Unwrap(out.err) // neither stored nor running: the plugin's own answer
	case errors.Is(out.err, ErrNotLeader):
		return fmt.Errorf("group %s removed from the store; leadership was lost before the %s downstream (%w)", id, o, ErrNotLeader)
	case o == opDestroy:
		return fmt.Errorf("group %s removed from the store; destroy downstream failed, will retry: %w", id, out.err)
	}
	return fmt.Errorf("group %s removed from the store; free downstream failed, will retry: %w", id, out.err)
}

// await records the intent, enqueues the group and waits for the
// reconciler's answer, at most applyWait (then the work goes on).
func (f *front) await(ctx context.Context, id plugin.ID, o op, wasStored bool, since uint64) outcome {
	ch := f.r.intents.record(id, o, wasStored, since)
	f.r.queue.AddFirst(id) // a waiting user goes before a resync's groups
	timer := time.NewTimer(f.applyWait)
	defer timer.Stop()
	select {
	case out := <-ch:
		return out
	case <-ctx.Done():
		return outcome{err: fmt.Errorf("%w: the caller gave up waiting (%w)", ErrNotApplied, ctx.Err())}
	case <-timer.C:
		return outcome{err: fmt.Errorf("%w: not done within %s, still being applied", ErrNotApplied, f.applyWait)}
	}
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
