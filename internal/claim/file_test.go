package claim_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/claim"
)

func TestFile(t *testing.T) {
	t.Run("second taker is refused, naming the holder", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.lock")
		a := claim.New(path, "downstream x", claim.Self("first"))
		require.NoError(t, a.Take())
		b := claim.New(path, "downstream x", claim.Self("second"))
		err := b.Take()
		require.ErrorIs(t, err, claim.ErrHeld)
		require.ErrorContains(t, err, "held by first (pid ")
		require.ErrorContains(t, err, "downstream x ("+path+")")
		a.Release()
		require.NoError(t, b.Take(), "released claims can be taken")
		require.ErrorIs(t, a.Verify(), claim.ErrHeld)
	})
	t.Run("a removed lock file taken by another is detected", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x.lock")
		a := claim.New(path, "x", claim.Self("a"))
		require.NoError(t, a.Take())
		require.NoError(t, a.Verify())
		require.NoError(t, os.Remove(path))
		require.NoError(t, a.Verify(), "nobody holds a missing file")
		require.NoFileExists(t, path, "Verify creates nothing")
		b := claim.New(path, "x", claim.Self("b"))
		require.NoError(t, b.Take())
		require.ErrorIs(t, a.Verify(), claim.ErrHeld)
		b.Release()
		require.NoError(t, a.Verify(), "a file nobody holds")
	})
	t.Run("a replaced lock file taken by another is detected", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.lock")
		a := claim.New(path, "x", claim.Self("a"))
		require.NoError(t, a.Take())
		require.NoError(t, os.Rename(path, filepath.Join(dir, "old")))
		b := claim.New(path, "x", claim.Self("b"))
		require.NoError(t, b.Take(), "the new file is free")
		err := a.Verify()
		require.ErrorIs(t, err, claim.ErrHeld)
		require.ErrorContains(t, err, "held by b")
	})
	t.Run("a lock file that cannot be made is not held", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing", "x.lock")
		err := claim.New(path, "x", claim.Self("a")).Take()
		require.Error(t, err)
		require.NotErrorIs(t, err, claim.ErrHeld)
	})
}
