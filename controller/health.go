package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/claim"
	"github.com/infrakit-manager/manager/internal/ops"
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
func (r *reconciler) downstreamProblem() error {
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
func (r *reconciler) healthProblems() []string {
	var out []string
	if err := r.bounded.writeFailure(); err != nil {
		out = append(out, "store cannot be written: the last write failed: "+err.Error())
	}
	if err := r.downstreamProblem(); err != nil {
		out = append(out, err.Error())
	}
	return append(out, r.health.claimProblems()...)
}

// addHealthChecks adds the readiness checks of the store (read through the
// bounded store, so a hung store costs at most maxStoreReads goroutines
// however often it is probed; a store that vanished fails it), the store's
// last write, the downstream and the claims.
func (m *Manager) addHealthChecks(c *ops.Checks) {
	b := m.r.bounded
	c.AddReady("store", func(ctx context.Context) error {
		_, _, err := b.Load(ctx)
		return err
	})
	c.AddReady("store writes", func(context.Context) error {
		if err := b.writeFailure(); err != nil {
			return fmt.Errorf("the last write failed: %w", err)
		}
		return nil
	})
	c.AddReady("downstream", func(context.Context) error {
		return m.r.downstreamProblem()
	})
	c.AddReady("claims", func(context.Context) error {
		if p := m.r.health.claimProblems(); len(p) > 0 {
			return errors.New(strings.Join(p, "; "))
		}
		return nil
	})
}

// runHealth verifies the claims and, while the last store write failed,
// checks whether the store can be written again, every resync interval.
func (m *Manager) runHealth(ctx context.Context) {
	t := m.opts.Clock.NewTicker(m.opts.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		m.verifyClaims()
		m.probeWrite(ctx)
	}
}

// probeWrite, while the last store write failed, asks a store that can
// (the file store: CheckWrite rewrites the config unchanged) whether it can
// be written now, under storeMu like every write of this replica. A store
// without the check reports the failure until its next successful write.
func (m *Manager) probeWrite(ctx context.Context) {
	b := m.r.bounded
	if b.writeFailure() == nil {
		return
	}
	if _, ok := b.s.(writeChecker); !ok {
		return
	}
	m.r.storeMu.Lock()
	defer m.r.storeMu.Unlock()
	b.checkWrite(ctx)
}
