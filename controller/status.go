package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

var _ plugin.Manager = (*front)(nil)

// IsLeader answers Manager.IsLeader from the lease; a role not known yet is
// an error (unknown), never "no".
func (f *front) IsLeader(context.Context) (bool, error) {
	v := f.r.lease.View()
	if v.Role == RoleUnknown {
		return false, fmt.Errorf("%w: no answer from the leadership source yet", ErrLeadershipUnknown)
	}
	return v.Role == RoleLeader, nil
}

// LeaderLocation answers Manager.LeaderLocation: where the leader's Group
// API is. With a location store (--advertise) that is the URL the leader
// published, once it names the current holder; otherwise, when the source
// names the leader (os: the leader file's content is the leader's --name;
// etcd: its candidate value), an infrakit URL ("infrakit://<holder>"); nil
// when nobody is known to lead.
func (f *front) LeaderLocation(context.Context) (*url.URL, error) {
	return f.loc.location(f.r.lease.View()), nil
}

// groupStatus is the ledger's record of every group that is stored, running
// or asked for; none when there is none (the ledger answers every record it
// holds when given no IDs).
func (r *reconciler) groupStatus() []plugin.GroupStatus {
	keys := r.keys()
	if len(keys) == 0 {
		return []plugin.GroupStatus{}
	}
	return r.ledger.Groups(keys...)
}

// Status answers Manager.Status from what the controller holds; it calls
// neither the store nor the downstream, so it answers at once.
func (f *front) Status(ctx context.Context) (plugin.ManagerStatus, error) {
	r := f.r
	v := r.lease.View()
	n, version, storeErr := r.desired.count()
	loc, _ := f.LeaderLocation(ctx)
	st := plugin.ManagerStatus{
		Name:       f.name,
		Mode:       f.mode,
		Role:       roleName(v.Role),
		Lease:      v.State(),
		Term:       v.Term,
		Leader:     loc,
		Store:      plugin.StoreStatus{Location: f.storeLocation, Version: string(version)},
		GroupCount: n,
		Stored:     sortedIDs(r.desired.keys()),
		Groups:     r.groupStatus(),
		Time:       r.clock.Now(),
		Handover:   r.hand.view(),
	}
	if p := r.hand.problem(); p != "" {
		st.Problems = append(st.Problems, p)
	}
	if storeErr != nil {
		st.Problems = append(st.Problems, "store unreadable: "+storeErr.Error())
	}
	if v.Unknown != nil {
		st.Problems = append(st.Problems, "leadership unknown: "+v.Unknown.Error())
	}
	if v.Role == RoleUnknown {
		st.Problems = append(st.Problems, "no leadership answer since start")
	}
	st.Problems = append(st.Problems, f.r.healthProblems()...)
	for _, g := range st.Groups {
		if g.LastResult != "ok" && g.LastResult != "" {
			st.Problems = append(st.Problems, fmt.Sprintf("group %s: %s failed: %s", g.ID, g.LastAction, g.LastResult))
		}
	}
	st.Healthy = len(st.Problems) == 0
	return st, nil
}

// sortedIDs sorts ids in place and returns them.
func sortedIDs(ids []plugin.ID) []plugin.ID {
	slices.Sort(ids)
	return ids
}

func roleName(r Role) string {
	switch r {
	case RoleLeader:
		return plugin.RoleLeader
	case RoleFollower:
		return plugin.RoleFollower
	}
	return plugin.RoleUnknown
}

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
		return r.syncBeat.Check(syncAge)(ctx)
	})
	c.AddLive("lease loop", func(ctx context.Context) error {
		if !m.running() {
			return nil
		}
		return r.leaseBeat.Check(4*m.opts.RenewInterval + time.Second)(ctx)
	})
	c.AddReadyDetail("leader", func(context.Context) string {
		// Only a published location: "infrakit://<holder>" says little.
		if u := m.f.loc.location(r.lease.View()); u != nil && (u.Scheme == "https" || u.Scheme == "http") {
			return u.String()
		}
		return ""
	})
	c.AddReady("leadership", func(context.Context) error {
		if v := r.lease.View(); v.Role == RoleUnknown {
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
