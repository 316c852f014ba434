package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

func TestFileLocation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	leader := filepath.Join(dir, "leader")
	l, err := NewLocation(leader)
	require.NoError(t, err)
	require.Equal(t, leader+".location", l.Path())

	t.Run("none yet", func(t *testing.T) {
		got, err := l.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, sources.Location{}, got)
	})
	t.Run("publish, replace, clear only one's own", func(t *testing.T) {
		a := sources.Location{Holder: "m1", URL: "https://127.0.0.1:24801"}
		b := sources.Location{Holder: "m2", URL: "https://127.0.0.1:24802"}
		require.NoError(t, l.Publish(ctx, a))
		got, err := l.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, a, got)
		require.NoError(t, l.Publish(ctx, b), "a new leader replaces the old one's location")
		require.NoError(t, l.Clear(ctx, "m1"), "the old leader clears nothing of its successor's")
		got, err = l.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, b, got)
		require.NoError(t, l.Clear(ctx, "m2"))
		_, err = os.Stat(l.Path())
		require.ErrorIs(t, err, os.ErrNotExist)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "no temp file left behind")
	})
	t.Run("bad content is an error, not a location", func(t *testing.T) {
		require.NoError(t, os.WriteFile(l.Path(), []byte("{not json"), 0o600))
		_, err := l.Load(ctx)
		require.ErrorIs(t, err, sources.ErrCorrupt)
		require.NoError(t, os.Remove(l.Path()))
		require.NoError(t, os.Mkdir(l.Path(), 0o700))
		_, err = l.Load(ctx)
		require.ErrorIs(t, err, sources.ErrNotRegular)
	})
}
