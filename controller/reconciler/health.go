package reconciler

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/claim"
	"github.com/infrakit-manager/manager/plugin"
)

// health is what is wrong beyond the lease and the last store read: the
// claims this replica could not take or lost (misconfiguration). The last
// store write failure is kept by the bounded store (writeFailure), the
// last downstream failure by observed. Status and /readyz read all three
// from memory; only the /readyz store check calls the store, through the
// bounded store. Leaf mutex.
type health struct {
	proxyFor, pluginDir string // the downstream, for the problems' text

	mu     sync.Mutex
	claims map[string]error // by Claim.String(); nil: held
}

func newHealth(o *Options) *health {
	return &health{proxyFor: o.ProxyFor, pluginDir: o.PluginDir, claims: map[string]error{}}
}

// setClaim records the outcome of taking or verifying a claim and logs a
// change: at error level when the claim is lost or cannot be taken, at info
// when it is held again. A repeated outcome is not logged again.
func (h *health) setClaim(what string, err error, log logr.Logger) {
	h.mu.Lock()
	prev, seen := h.claims[what]
	h.claims[what] = err
	h.mu.Unlock()
	switch {
	case err != nil && (!seen || prev == nil || prev.Error() != err.Error()):
		if errors.Is(err, claim.ErrHeld) {
			log.Error(err, "misconfiguration: another manager holds this claim", "claim", what)
		} else {
			log.Error(err, "cannot check claim", "claim", what)
		}
	case err == nil && prev != nil:
		log.Info("claim held again", "claim", what)
	}
}

// claimProblems lists the claims not held, sorted: held by another process
// (a misconfiguration), or not checked (the lock file cannot be made, as in
// a store directory that vanished).
func (h *health) claimProblems() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, err := range h.claims {
		switch {
		case errors.Is(err, claim.ErrHeld):
			out = append(out, "misconfiguration: "+err.Error())
		case err != nil:
			out = append(out, "claim not checked: "+err.Error())
		}
	}
	sort.Strings(out)
	return out
}

// failure is the error of the last InspectGroups, nil after a success.
func (o *observed) failure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// downstreamProblem says why the downstream could not be observed: not
// found (a misspelled --proxy-for-group) or not answering.
func (r *Reconciler) downstreamProblem() error {
	proxyFor, pluginDir := r.health.proxyFor, r.health.pluginDir
	err := r.obs.failure()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, plugin.ErrPluginNotFound):
		return fmt.Errorf("downstream %q not found in %s (check --proxy-for-group and --plugin-dir): %w", proxyFor, pluginDir, err)
	default:
		return fmt.Errorf("downstream %q not answering: %w", proxyFor, err)
	}
}

// healthProblems are the problems Status adds from health, the store's
// last write and the downstream.
func (r *Reconciler) healthProblems() []string {
	var out []string
	if err := r.bounded.writeFailure(); err != nil {
		out = append(out, "store cannot be written: the last write failed: "+err.Error())
	}
	if err := r.downstreamProblem(); err != nil {
		out = append(out, err.Error())
	}
	return append(out, r.health.claimProblems()...)
}
