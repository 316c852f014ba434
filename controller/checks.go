package controller

import (
	"context"
	"errors"
	"time"
)

// addChecks registers the controller's health checks: liveness (the sync
// loop and the lease loop made progress recently) and readiness
// (leadership known).
func (m *Manager) addChecks() {
	c := m.opts.Checks
	if c == nil {
		return
	}
	r := m.r
	syncAge := 2*m.opts.ResyncInterval + m.opts.StoreTimeout + m.opts.CallTimeout
	c.AddLive("sync loop", func(ctx context.Context) error {
		if !m.running() {
			return nil
		}
		return r.SyncBeat().Check(syncAge)(ctx)
	})
	c.AddLive("lease loop", func(ctx context.Context) error {
		if !m.running() {
			return nil
		}
		return r.LeaseBeat().Check(4*m.opts.RenewInterval + time.Second)(ctx)
	})
	c.AddReadyDetail("leader", func(context.Context) string {
		// Only a published location: "infrakit://<holder>" says little.
		if u := m.loc.Location(r.Lease().View()); u != nil && (u.Scheme == "https" || u.Scheme == "http") {
			return u.String()
		}
		return ""
	})
	c.AddReady("leadership", func(context.Context) error {
		if v := r.Lease().View(); v.Role == RoleUnknown {
			return errors.New("no answer from the leadership source yet")
		}
		return nil
	})
	m.addHealthChecks(c)
}

// running reports whether Start has run and Stop has not.
func (m *Manager) running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.stopped:
		return false
	default:
		return m.started && m.server != nil
	}
}
