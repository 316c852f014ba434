package plugin

import "context"

// Group is the Group SPI (version 0.1.0): what a group plugin does. The server
// in this package serves a Group; the client in this package is a Group.
//
// Errors returned by an implementation reach the caller as JSON-RPC errors with
// code -32000 and the error's text as message.
type Group interface {
	// CommitGroup makes spec the desired state of group spec.ID, or with
	// pretend only describes what that would involve. It returns details text.
	CommitGroup(ctx context.Context, spec Spec, pretend bool) (string, error)
	// FreeGroup stops managing the group and leaves its instances alone.
	FreeGroup(ctx context.Context, id ID) error
	// DescribeGroup describes the instances of a group.
	DescribeGroup(ctx context.Context, id ID) (Description, error)
	// DestroyGroup frees the group and destroys its instances.
	DestroyGroup(ctx context.Context, id ID) error
	// InspectGroups returns the specs of all groups being managed.
	InspectGroups(ctx context.Context) ([]Spec, error)
}
