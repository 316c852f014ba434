// Package fronttest holds hand-written fakes of what the front is given:
// a Reconciler that records the changes submitted to it and answers as
// told, a Lease that reports a fixed View, a Downstream that counts pretend
// commits, and a Locator.
package fronttest

import (
	"context"
	"errors"
	"net/url"
	"sync"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
)

// Reconciler records every submitted change and answers with Answer (nil:
// an empty receipt).
type Reconciler struct {
	Answer func(submit.Change) (submit.Receipt, error)
	Specs  []plugin.Spec
	Snap   submit.Snapshot

	mu      sync.Mutex
	changes []submit.Change
}

// Submit records c and answers it.
func (r *Reconciler) Submit(_ context.Context, c submit.Change) (submit.Receipt, error) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
	if r.Answer == nil {
		return submit.Receipt{}, nil
	}
	return r.Answer(c)
}

// Changes are the changes submitted so far.
func (r *Reconciler) Changes() []submit.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]submit.Change(nil), r.changes...)
}

// Stored answers Specs.
func (r *Reconciler) Stored(context.Context) ([]plugin.Spec, error) { return r.Specs, nil }

// StoredEncoded answers Specs, encoded.
func (r *Reconciler) StoredEncoded(context.Context) (plugin.EncodedSpecs, error) {
	return plugin.EncodeSpecs(r.Specs)
}

// Snapshot answers Snap.
func (r *Reconciler) Snapshot() submit.Snapshot { return r.Snap }

// Lease reports V.
type Lease struct{ V lease.View }

// View answers V.
func (l Lease) View() lease.View { return l.V }

// Downstream counts pretend commits and answers them with Verdict; a real
// commit is an error (the front must never make one).
type Downstream struct {
	Verdict error

	mu       sync.Mutex
	pretends int
}

// ErrRealCommit answers a commit that is not a pretend one.
var ErrRealCommit = errors.New("fronttest: the front made a real commit")

// CommitGroup answers a pretend commit with Verdict.
func (d *Downstream) CommitGroup(_ context.Context, _ plugin.Spec, pretend bool) (string, error) {
	if !pretend {
		return "", ErrRealCommit
	}
	d.mu.Lock()
	d.pretends++
	d.mu.Unlock()
	return "pretend ok", d.Verdict
}

// DescribeGroup answers an empty description.
func (d *Downstream) DescribeGroup(context.Context, plugin.ID) (plugin.Description, error) {
	return plugin.Description{}, nil
}

// Pretends counts the pretend commits.
func (d *Downstream) Pretends() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pretends
}

// Locator answers URL.
type Locator struct{ URL *url.URL }

// Location answers URL.
func (l Locator) Location(lease.View) *url.URL { return l.URL }

// Health reports its problems, in order.
type Health []string

// Problems answers h.
func (h Health) Problems() []string { return h }
