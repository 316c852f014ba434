package sourcestest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

// RunLocationContract runs the behaviour every sources.LocationStore must
// have against stores made by newStore, each one new and empty.
func RunLocationContract(t *testing.T, newStore func(t *testing.T) sources.LocationStore) {
	t.Helper()
	ctx := context.Background()
	m1 := sources.Location{Holder: "m1", URL: "https://127.0.0.1:24801"}
	m2 := sources.Location{Holder: "m2", URL: "https://127.0.0.1:24802"}

	t.Run("nothing published loads the zero location", func(t *testing.T) {
		got, err := newStore(t).Load(ctx)
		require.NoError(t, err)
		require.Equal(t, sources.Location{}, got)
	})
	t.Run("publish then load; a new leader replaces it", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Publish(ctx, m1))
		got, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, m1, got)
		require.NoError(t, s.Publish(ctx, m2))
		got, err = s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, m2, got)
	})
	t.Run("clear removes only the holder's own", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Publish(ctx, m2))
		require.NoError(t, s.Clear(ctx, "m1"))
		got, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, m2, got, "a former leader never clears its successor's")
		require.NoError(t, s.Clear(ctx, "m2"))
		got, err = s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, sources.Location{}, got)
		require.NoError(t, s.Clear(ctx, "m2"), "clearing nothing is fine")
	})
}
