package reconciler

import (
	"context"
	"io"
	"sync"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/internal/ops"
)

// What the daemon (package controller) runs and reads of the reconciler.
// The front uses Submit, Stored, StoredEncoded and Snapshot (snapshot.go).

// Lease is the reconciler's lease: the daemon checks, runs and reports it.
func (r *Reconciler) Lease() *lease.Lease { return r.lease }

// Run runs the lease loop (a check at every renewal and at every poke),
// the sync loop and the workers until ctx is done and ShutDown has been
// called, then waits for the handover's goroutines.
func (r *Reconciler) Run(ctx context.Context, poke <-chan struct{}) {
	var wg sync.WaitGroup
	wg.Add(2 + r.workers)
	go func() { defer wg.Done(); r.lease.Run(ctx, poke, r.leaseTick) }()
	go func() { defer wg.Done(); r.runSync(ctx) }()
	for range r.workers {
		go func() { defer wg.Done(); r.runWorker(ctx) }()
	}
	wg.Wait()
	if r.hand != nil {
		r.hand.wg.Wait()
	}
}

// ShutDown stops the work queue: workers drain what it holds without
// acting (their ctx is done) and return.
func (r *Reconciler) ShutDown() { r.queue.ShutDown() }

// Resync re-reads the store and the downstream at once; it never blocks.
func (r *Reconciler) Resync() { r.triggerSync() }

// Settle waits, at most one handover record call, until the current term
// (if this replica leads) has claimed its record term and either acts or
// has begun to wait.
func (r *Reconciler) Settle(ctx context.Context) { r.hand.settle(ctx) }

// RunOnce is one full reconcile pass (--once) after the caller's
// leadership check: it waits for the current term's handover first, so it
// acts only where the daemon would.
func (r *Reconciler) RunOnce(ctx context.Context, out io.Writer, dryRun bool) (Summary, error) {
	r.hand.waitCurrent(ctx)
	return r.runOnce(ctx, out, dryRun)
}

// SyncBeat beats at every sync round; LeaseBeat at every renewal tick.
func (r *Reconciler) SyncBeat() *ops.Heartbeat  { return r.syncBeat }
func (r *Reconciler) LeaseBeat() *ops.Heartbeat { return r.leaseBeat }

// ReadStore reads the store through its bounds (a hung store costs at
// most MaxStoreReads goroutines however often it is asked), for /readyz.
func (r *Reconciler) ReadStore(ctx context.Context) error {
	_, _, err := r.bounded.Load(ctx)
	return err
}

// WriteFailure is the last store write's failure, nil if it succeeded.
func (r *Reconciler) WriteFailure() error { return r.bounded.writeFailure() }

// DownstreamProblem says why the downstream could not be observed, nil if
// it was.
func (r *Reconciler) DownstreamProblem() error { return r.downstreamProblem() }

// ProbeWrite, while the last store write failed, asks a store that can
// (the file store: CheckWrite rewrites the config unchanged) whether it can
// be written now, under storeMu like every write of this replica. A store
// without the check reports the failure until its next successful write.
func (r *Reconciler) ProbeWrite(ctx context.Context) {
	b := r.bounded
	if b.writeFailure() == nil {
		return
	}
	if _, ok := b.s.(writeChecker); !ok {
		return
	}
	r.storeMu.Lock()
	defer r.storeMu.Unlock()
	b.checkWrite(ctx)
}
