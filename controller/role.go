package controller

import "github.com/infrakit-manager/manager/controller/lease"

// Role is what this replica does now (lease.Role).
type Role = lease.Role

// The roles.
const (
	// RoleUnknown: no answer from the leadership source since start.
	RoleUnknown = lease.RoleUnknown
	// RoleFollower: another replica leads, or leadership was unknown for
	// longer than the lease.
	RoleFollower = lease.RoleFollower
	// RoleLeader: the replica keeps its downstream running the stored groups.
	RoleLeader = lease.RoleLeader
)
