package reconciler

import (
	"context"
	"fmt"
	"slices"

	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
)

// Submit is the one way in for the front's writes: see submit. It waits
// for the reconciler's answer at most the apply wait (Options: a lease
// re-check, a queue turn and one downstream call, with room to spare).
func (r *Reconciler) Submit(ctx context.Context, c submit.Change) (submit.Receipt, error) {
	rc, err := r.submit(ctx, change{id: c.ID, op: c.Op, entry: c.Entry, validated: c.Validated}, r.applyWait)
	return submit.Receipt{WasStored: rc.wasStored, Pending: rc.pending,
		Outcome: submit.Outcome{Details: rc.out.details, Err: rc.out.err}}, err
}

// Stored answers InspectGroups: the stored specs, on every replica (the
// store is shared, so followers and the leader agree on what is
// committed). While the store is unchanged the answer comes from memory.
func (r *Reconciler) Stored(ctx context.Context) ([]plugin.Spec, error) {
	cfg, v, err := r.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if specs, ok := r.desired.inspect(v); ok {
		return specs, nil
	}
	good, bad := specsOf(cfg)
	for id, err := range bad {
		r.log.Error(err, "stored group skipped", "group", id)
	}
	return sortedSpecs(good), nil
}

// StoredEncoded is Stored, encoded once per store version and kept: while
// the store is unchanged an answer costs the store's version check and
// writing the kept bytes.
func (r *Reconciler) StoredEncoded(ctx context.Context) (plugin.EncodedSpecs, error) {
	_, v, err := r.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	enc, ok, err := r.desired.inspectEncoded(v)
	if ok || err != nil {
		return enc, err
	}
	specs, err := r.Stored(ctx)
	if err != nil {
		return nil, err
	}
	return plugin.EncodeSpecs(specs)
}

// Snapshot is what Status reports of the reconciler, from memory: it calls
// neither the store nor the downstream.
func (r *Reconciler) Snapshot() submit.Snapshot {
	n, version, storeErr := r.desired.count()
	ids := r.desired.keys()
	slices.Sort(ids)
	return submit.Snapshot{
		Stored:          n,
		Version:         version,
		StoreErr:        storeErr,
		StoredIDs:       ids,
		Groups:          r.groupStatus(),
		Time:            r.clock.Now(),
		Handover:        r.hand.view(),
		HandoverProblem: r.hand.problem(),
		Problems:        r.healthProblems(),
	}
}

// groupStatus is the ledger's record of every group that is stored, running
// or asked for; none when there is none (the ledger answers every record it
// holds when given no IDs).
func (r *Reconciler) groupStatus() []plugin.GroupStatus {
	keys := r.keys()
	if len(keys) == 0 {
		return []plugin.GroupStatus{}
	}
	return r.ledger.Groups(keys...)
}
