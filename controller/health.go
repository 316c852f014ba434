package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/infrakit-manager/manager/internal/ops"
)

// addHealthChecks adds the readiness checks of the store (read through the
// bounded store, so a hung store costs at most maxStoreReads goroutines
// however often it is probed; a store that vanished fails it), the store's
// last write, the downstream and the claims.
func (m *Manager) addHealthChecks(c *ops.Checks) {
	r := m.r
	c.AddReady("store", r.ReadStore)
	c.AddReady("store writes", func(context.Context) error {
		if err := r.WriteFailure(); err != nil {
			return fmt.Errorf("the last write failed: %w", err)
		}
		return nil
	})
	c.AddReady("downstream", func(context.Context) error {
		return r.DownstreamProblem()
	})
	c.AddReady("claims", func(context.Context) error {
		if p := m.claims.Problems(); len(p) > 0 {
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
		m.r.ProbeWrite(ctx)
	}
}
