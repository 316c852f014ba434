package forward_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/forward"
	"github.com/infrakit-manager/manager/forward/forwardtest"
	"github.com/infrakit-manager/manager/plugin"
)

// encodedLocal is a Local that keeps its InspectGroups answer encoded.
type encodedLocal struct {
	*forwardtest.Local
	enc plugin.EncodedSpecs
}

func (l encodedLocal) InspectGroupsEncoded(context.Context) (plugin.EncodedSpecs, error) {
	return l.enc, nil
}

// TestInspectEncodedServedHere: served here, the layer hands the server the
// local Group's kept encoding (not a re-encoding of its decoded answer);
// without one, the local answer encoded; forwarded, the leader's answer.
func TestInspectEncodedServedHere(t *testing.T) {
	ctx := context.Background()
	want, err := plugin.EncodeSpecs([]plugin.Spec{spec("kept")})
	require.NoError(t, err)
	o := forward.DefaultOptions()
	o.NotLeader = forwardtest.ErrNotLeader
	local := encodedLocal{Local: forwardtest.New(true), enc: want}
	g, err := forward.New(local, o)
	require.NoError(t, err)
	got, err := g.InspectGroupsEncoded(ctx)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	require.Empty(t, local.Calls(), "the decoded InspectGroups is not asked")

	plain, err := forward.New(forwardtest.New(true), o)
	require.NoError(t, err)
	_, err = plain.CommitGroup(ctx, spec("a"), false)
	require.NoError(t, err)
	got, err = plain.InspectGroupsEncoded(ctx)
	require.NoError(t, err)
	var specs []plugin.Spec
	require.NoError(t, json.Unmarshal(got, &specs))
	require.Len(t, specs, 1)
	require.Equal(t, plugin.ID("a"), specs[0].ID)

	_, leader, follower := setup(t)
	_, err = leader.fwd.CommitGroup(ctx, spec("b"), false)
	require.NoError(t, err)
	got, err = follower.fwd.InspectGroupsEncoded(ctxFor(t, 10*time.Second))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(got, &specs))
	require.Len(t, specs, 1)
	require.Equal(t, plugin.ID("b"), specs[0].ID)
	require.Empty(t, follower.local.Calls(), "forwarded: nothing served by the follower itself")
}
