package front

import (
	"context"
	"fmt"
	"net/url"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/plugin"
)

// IsLeader answers Manager.IsLeader from the lease; a role not known yet is
// an error (unknown), never "no".
func (f *Front) IsLeader(context.Context) (bool, error) {
	v := f.l.View()
	if v.Role == lease.RoleUnknown {
		return false, fmt.Errorf("%w: no answer from the leadership source yet", ErrLeadershipUnknown)
	}
	return v.Role == lease.RoleLeader, nil
}

// LeaderLocation answers Manager.LeaderLocation: where the leader's Group
// API is. With a location store (--advertise) that is the URL the leader
// published, once it names the current holder; otherwise, when the source
// names the leader (os: the leader file's content is the leader's --name;
// etcd: its candidate value), an infrakit URL ("infrakit://<holder>"); nil
// when nobody is known to lead.
func (f *Front) LeaderLocation(context.Context) (*url.URL, error) {
	return f.loc.Location(f.l.View()), nil
}

// Status answers Manager.Status from what the controller holds; it calls
// neither the store nor the downstream, so it answers at once.
func (f *Front) Status(ctx context.Context) (plugin.ManagerStatus, error) {
	v := f.l.View()
	snap := f.r.Snapshot()
	loc, _ := f.LeaderLocation(ctx)
	st := plugin.ManagerStatus{
		Name:       f.o.Name,
		Mode:       f.o.Mode,
		Role:       roleName(v.Role),
		Lease:      v.State(),
		Term:       v.Term,
		Leader:     loc,
		Store:      plugin.StoreStatus{Location: f.o.StoreLocation, Version: string(snap.Version)},
		GroupCount: snap.Stored,
		Stored:     snap.StoredIDs,
		Groups:     snap.Groups,
		Time:       snap.Time,
		Handover:   snap.Handover,
	}
	if p := snap.HandoverProblem; p != "" {
		st.Problems = append(st.Problems, p)
	}
	if snap.StoreErr != nil {
		st.Problems = append(st.Problems, "store unreadable: "+snap.StoreErr.Error())
	}
	if v.Unknown != nil {
		st.Problems = append(st.Problems, "leadership unknown: "+v.Unknown.Error())
	}
	if v.Role == lease.RoleUnknown {
		st.Problems = append(st.Problems, "no leadership answer since start")
	}
	st.Problems = append(st.Problems, snap.Problems...)
	if f.o.Health != nil {
		st.Problems = append(st.Problems, f.o.Health.Problems()...)
	}
	for _, g := range st.Groups {
		if g.LastResult != "ok" && g.LastResult != "" {
			st.Problems = append(st.Problems, fmt.Sprintf("group %s: %s failed: %s", g.ID, g.LastAction, g.LastResult))
		}
	}
	st.Healthy = len(st.Problems) == 0
	return st, nil
}

func roleName(r lease.Role) string {
	switch r {
	case lease.RoleLeader:
		return plugin.RoleLeader
	case lease.RoleFollower:
		return plugin.RoleFollower
	}
	return plugin.RoleUnknown
}
