package plugin

import (
	"context"
	"net/url"
	"time"
)

// ManagerInterface is the API a manager answers besides Group, as the later
// InfraKit's pkg/manager named it. Plugin.Implements lists it next to
// GroupInterface when the served Group is also a Manager.
var ManagerInterface = InterfaceSpec{Name: "Manager", Version: "0.1.0"}

// Manager is what a leader-aware manager answers about itself. When the
// Group given to Serve or NewHandler also implements Manager, the server
// answers Manager.IsLeader, Manager.LeaderLocation and Manager.Status.
//
// Implementations must answer from state they already hold (no store or
// downstream calls under a lock a reconcile holds), so that asking never
// waits behind the work it reports on.
type Manager interface {
	// IsLeader reports whether this replica leads now. An error means the
	// status is unknown.
	IsLeader(ctx context.Context) (bool, error)
	// LeaderLocation is where the leader can be reached, or nil when the
	// mode does not know it (it only knows whether this replica leads).
	LeaderLocation(ctx context.Context) (*url.URL, error)
	// Status describes this replica.
	Status(ctx context.Context) (ManagerStatus, error)
}

// Roles of ManagerStatus.Role.
const (
	RoleLeader   = "leader"
	RoleFollower = "follower"
	RoleUnknown  = "unknown" // leadership not known yet, or the last check failed
)

// ManagerStatus is the result of Manager.Status: one replica's view. It is a
// plain wire struct; field names are the wire names (no json tags, as the
// rest of the protocol).
type ManagerStatus struct {
	Name       string   // socket name of the Group API this replica serves (--name)
	Mode       string   // "os" or "swarm"
	Role       string   // RoleLeader, RoleFollower or RoleUnknown
	Lease      string   // state of the leadership lease, as the controller names it ("held", "unknown", "none", "pending"; see lease.View.State in controller/lease)
	Term       uint64   // leadership term; increases at every gain of leadership
	Leader     *url.URL // where the leader is, nil when unknown
	Store      StoreStatus
	GroupCount int             // groups in the store
	Stored     []ID            // the stored groups' IDs, sorted: what a follower would run if it led
	Groups     []GroupStatus   // per group, sorted by ID
	Healthy    bool            // false when Problems is not empty
	Problems   []string        // what is wrong, one short sentence each
	Time       time.Time       // when this status was taken
	Handover   *HandoverStatus // this replica's newest handover as new leader; nil if it never led
}

// Handover phases of HandoverStatus.Phase.
const (
	HandoverWaitingRelease = "waiting for release"   // the previous holder may still act and has not released
	HandoverWaitingLease   = "waiting for the lease" // no release can come: waiting until its lease has certainly run out
	HandoverDone           = "done"                  // the new leader acts
)

// HandoverStatus is one handover as the new leader saw it.
type HandoverStatus struct {
	Mode   string        // "fenced" or "fast"
	Term   uint64        // the leadership term (ManagerStatus.Term) it began
	Phase  string        // HandoverWaitingRelease, HandoverWaitingLease or HandoverDone
	Reason string        // why it waits, or how it ended
	Waited time.Duration // how long it has waited so far, or waited in all
}

// StoreStatus is where the groups are stored and which version was read last.
type StoreStatus struct {
	Location string // e.g. the global.config path, or "swarm label infrakit"
	Version  string // opaque version last loaded or saved; "" when none
}

// GroupStatus is the last reconcile of one group.
type GroupStatus struct {
	ID         ID
	LastAction string    // e.g. "commit", "free", "destroy", "none"
	LastResult string    // "ok" or the error text
	LastTime   time.Time // zero when never reconciled
	Reason     string    // why the action was taken
}

// Wire parameter and result shapes of the Manager service; the names and
// shapes of IsLeader and LeaderLocation are the later InfraKit's.
type (
	// IsLeaderRequest is the params of Manager.IsLeader.
	IsLeaderRequest struct{}
	// IsLeaderResponse is the result of Manager.IsLeader.
	IsLeaderResponse struct {
		Leader bool
	}
	// LeaderLocationRequest is the params of Manager.LeaderLocation.
	LeaderLocationRequest struct{}
	// LeaderLocationResponse is the result of Manager.LeaderLocation.
	LeaderLocationResponse struct {
		Location *url.URL
	}
	// StatusRequest is the params of Manager.Status.
	StatusRequest struct{}
	// StatusResponse is the result of Manager.Status.
	StatusResponse struct {
		Status ManagerStatus
	}
)

// managerMethods are the Manager service's methods, served by m.
func managerMethods(m Manager) map[string]method {
	return map[string]method{
		"IsLeader": bind(func(ctx context.Context, _ Group, _ IsLeaderRequest) (any, error) {
			l, err := m.IsLeader(ctx)
			if err != nil {
				return nil, err
			}
			return IsLeaderResponse{Leader: l}, nil
		}),
		"LeaderLocation": bind(func(ctx context.Context, _ Group, _ LeaderLocationRequest) (any, error) {
			u, err := m.LeaderLocation(ctx)
			if err != nil {
				return nil, err
			}
			return LeaderLocationResponse{Location: u}, nil
		}),
		"Status": bind(func(ctx context.Context, _ Group, _ StatusRequest) (any, error) {
			s, err := m.Status(ctx)
			if err != nil {
				return nil, err
			}
			return StatusResponse{Status: s}, nil
		}),
	}
}
