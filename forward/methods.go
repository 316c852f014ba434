package forward

import (
	"context"

	"github.com/infrakit-manager/manager/plugin"
)

// CommitGroup is the leader's CommitGroup (pretend too: the leader's
// downstream validates).
func (g *Group) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	return route(ctx, g, "Group.CommitGroup", commitWrite,
		func(ctx context.Context) (string, error) { return g.local.CommitGroup(ctx, spec, pretend) },
		func(ctx context.Context, c *plugin.Client) (string, error) { return c.CommitGroup(ctx, spec, pretend) })
}

// FreeGroup is the leader's FreeGroup.
func (g *Group) FreeGroup(ctx context.Context, id plugin.ID) error {
	_, err := route(ctx, g, "Group.FreeGroup", write,
		func(ctx context.Context) (struct{}, error) { return struct{}{}, g.local.FreeGroup(ctx, id) },
		func(ctx context.Context, c *plugin.Client) (struct{}, error) { return struct{}{}, c.FreeGroup(ctx, id) })
	return err
}

// DestroyGroup is the leader's DestroyGroup.
func (g *Group) DestroyGroup(ctx context.Context, id plugin.ID) error {
	_, err := route(ctx, g, "Group.DestroyGroup", write,
		func(ctx context.Context) (struct{}, error) { return struct{}{}, g.local.DestroyGroup(ctx, id) },
		func(ctx context.Context, c *plugin.Client) (struct{}, error) {
			return struct{}{}, c.DestroyGroup(ctx, id)
		})
	return err
}

// DescribeGroup is the leader's DescribeGroup: a follower's downstream
// watches nothing.
func (g *Group) DescribeGroup(ctx context.Context, id plugin.ID) (plugin.Description, error) {
	return route(ctx, g, "Group.DescribeGroup", read,
		func(ctx context.Context) (plugin.Description, error) { return g.local.DescribeGroup(ctx, id) },
		func(ctx context.Context, c *plugin.Client) (plugin.Description, error) {
			return c.DescribeGroup(ctx, id)
		})
}

// InspectGroups is the leader's InspectGroups.
func (g *Group) InspectGroups(ctx context.Context) ([]plugin.Spec, error) {
	return route(ctx, g, "Group.InspectGroups", read,
		func(ctx context.Context) ([]plugin.Spec, error) { return g.local.InspectGroups(ctx) },
		func(ctx context.Context, c *plugin.Client) ([]plugin.Spec, error) { return c.InspectGroups(ctx) })
}
