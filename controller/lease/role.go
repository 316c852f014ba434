package lease

// Role is what this replica does now.
type Role int

// The roles.
const (
	// RoleUnknown: no answer from the leadership source since start. The
	// replica acts on nothing; after the lease duration it becomes a
	// follower.
	RoleUnknown Role = iota
	// RoleFollower: another replica leads, or leadership was unknown for
	// longer than the lease. The replica frees what its downstream runs.
	RoleFollower
	// RoleLeader: the replica keeps its downstream running the stored groups.
	RoleLeader
)

func (r Role) String() string {
	switch r {
	case RoleLeader:
		return "leader"
	case RoleFollower:
		return "follower"
	default:
		return "unknown"
	}
}
