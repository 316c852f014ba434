package forward

import (
	"context"

	"github.com/infrakit-manager/manager/plugin"
)

var _ plugin.EncodedInspector = (*Group)(nil)

// InspectGroupsEncoded is InspectGroups for the server (plugin.EncodedInspector),
// routed the same way: served here, it is the local Group's kept encoding
// when it keeps one (the manager's front does: the stored specs, encoded
// once per store version), so the layer does not cost the socket that
// encoding; forwarded, it is the leader's answer, encoded.
func (g *Group) InspectGroupsEncoded(ctx context.Context) (plugin.EncodedSpecs, error) {
	return route(ctx, g, "Group.InspectGroups", read,
		func(ctx context.Context) (plugin.EncodedSpecs, error) {
			if ei, ok := g.local.(plugin.EncodedInspector); ok {
				return ei.InspectGroupsEncoded(ctx)
			}
			return encoded(g.local.InspectGroups(ctx))
		},
		func(ctx context.Context, c *plugin.Client) (plugin.EncodedSpecs, error) {
			return encoded(c.InspectGroups(ctx))
		})
}

func encoded(specs []plugin.Spec, err error) (plugin.EncodedSpecs, error) {
	if err != nil {
		return nil, err
	}
	return plugin.EncodeSpecs(specs)
}
