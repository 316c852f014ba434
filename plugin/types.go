package plugin

import "encoding/json"

// ID identifies a group.
type ID string

// Spec is a group specification as carried on the wire: {"ID":…,"Properties":…}.
// Properties is opaque raw JSON; it is never interpreted by the protocol layer.
type Spec struct {
	ID         ID
	Properties json.RawMessage
}

// InstanceDescription describes one instance of a group.
// LogicalID is nil when the instance has no logical ID (wire: null).
type InstanceDescription struct {
	ID        string
	LogicalID *string
	Tags      map[string]string
}

// Description is the result of DescribeGroup.
type Description struct {
	Instances []InstanceDescription
	Converged bool
}

// InterfaceSpec names an API a plugin implements, as answered by Plugin.Implements.
type InterfaceSpec struct {
	Name    string
	Version string
}

// GroupInterface is the only API this package serves and requires.
var GroupInterface = InterfaceSpec{Name: "Group", Version: "0.1.0"}

// Wire parameter and result shapes of the Group service. Field names are the
// protocol's (Go-style capitalised, no json tags in the original).
type (
	// CommitGroupRequest is the params of Group.CommitGroup.
	CommitGroupRequest struct {
		Spec    Spec
		Pretend bool
	}
	// CommitGroupResponse is the result of Group.CommitGroup.
	CommitGroupResponse struct {
		Details string
	}
	// IDRequest is the params of Group.FreeGroup, Group.DescribeGroup and Group.DestroyGroup.
	IDRequest struct {
		ID ID
	}
	// OKResponse is the result of Group.FreeGroup and Group.DestroyGroup.
	OKResponse struct {
		OK bool
	}
	// DescribeGroupResponse is the result of Group.DescribeGroup.
	DescribeGroupResponse struct {
		Description Description
	}
	// InspectGroupsRequest is the (empty) params of Group.InspectGroups.
	InspectGroupsRequest struct{}
	// InspectGroupsResponse is the result of Group.InspectGroups. Groups is
	// null on the wire when empty, as in the original.
	InspectGroupsResponse struct {
		Groups []Spec
	}
	// ImplementsRequest is the (empty) params of Plugin.Implements.
	ImplementsRequest struct{}
	// ImplementsResponse is the result of Plugin.Implements.
	ImplementsResponse struct {
		APIs []InterfaceSpec
	}
)
