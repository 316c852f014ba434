package controller

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// TestInspectGroupsEncodedKept: the encoded answer equals the encoding of
// InspectGroups' answer, is kept while the store is unchanged, and follows
// a commit.
func TestInspectGroupsEncodedKept(t *testing.T) {
	e := newEnv(t, true)
	e.start(t)
	e.waitLeader(t, true)
	ctx := t.Context()
	f := e.m.f
	empty, err := f.InspectGroupsEncoded(ctx)
	require.NoError(t, err)
	require.Empty(t, empty)
	for _, id := range []string{"web", "db"} {
		_, err := f.CommitGroup(ctx, spec(id, 1), false)
		require.NoError(t, err)
	}
	check := func() plugin.EncodedSpecs {
		specs, err := f.InspectGroups(ctx)
		require.NoError(t, err)
		want, err := plugin.EncodeSpecs(specs)
		require.NoError(t, err)
		got, err := f.InspectGroupsEncoded(ctx)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
		return got
	}
	first := check()
	again, err := f.InspectGroupsEncoded(ctx)
	require.NoError(t, err)
	require.Same(t, &first[0], &again[0], "kept, not encoded again")
	_, err = f.CommitGroup(ctx, spec("web", 3), false)
	require.NoError(t, err)
	require.NotEqual(t, string(first), string(check()))
}
