package file_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// TestFileStore_Vanished: a store that was there and is gone is unknown
// (ErrStoreGone), never empty; nothing is created on its account; it
// recovers by itself when it is back, or when {} is written.
func TestFileStore_Vanished(t *testing.T) {
	ctx := t.Context()
	saved := func(t *testing.T) (*file.Store, string, sources.Version) {
		dir := filepath.Join(t.TempDir(), "store")
		s := newFileStore(t, dir)
		v, err := s.Save(ctx, sourcestest.SampleConfig("a", "b"), "")
		require.NoError(t, err)
		return s, dir, v
	}
	requireGone := func(t *testing.T, s *file.Store, why string) {
		t.Helper()
		cfg, _, err := s.Load(ctx)
		require.ErrorIs(t, err, sources.ErrStoreGone)
		require.ErrorContains(t, err, why)
		require.ErrorContains(t, err, s.Path())
		require.Nil(t, cfg.Groups)
		_, err = s.Save(ctx, sourcestest.SampleConfig("c"), "")
		require.ErrorIs(t, err, sources.ErrStoreGone, "a save to a vanished store")
	}
	requireBack := func(t *testing.T, s *file.Store, v sources.Version, n int) {
		t.Helper()
		cfg, got, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v, got)
		require.Len(t, cfg.Groups, n)
	}

	t.Run("a store never written is empty", func(t *testing.T) {
		s := newFileStore(t, t.TempDir())
		cfg, v, err := s.Load(ctx)
		require.NoError(t, err)
		require.Empty(t, cfg.Groups)
		require.Empty(t, v)
	})
	t.Run("file removed after it was seen", func(t *testing.T) {
		s, _, _ := saved(t)
		require.NoError(t, os.Remove(s.Path()))
		requireGone(t, s, "write {} to it to reset")
		require.NoFileExists(t, s.Path(), "nothing is written to a vanished store")
		require.NoError(t, os.WriteFile(s.Path(), []byte("{}"), 0o600))
		cfg, _, err := s.Load(ctx)
		require.NoError(t, err, "{} resets the store")
		require.Empty(t, cfg.Groups)
	})
	t.Run("file seen by a load, not a save", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "global.config"), []byte("{}"), 0o600))
		s := newFileStore(t, dir)
		_, _, err := s.Load(ctx)
		require.NoError(t, err)
		require.NoError(t, os.Remove(s.Path()))
		_, _, err = s.Load(ctx)
		require.ErrorIs(t, err, sources.ErrStoreGone)
	})
	t.Run("dir removed, then back", func(t *testing.T) {
		s, dir, v := saved(t)
		aside := dir + ".aside"
		require.NoError(t, os.Rename(dir, aside))
		requireGone(t, s, "store directory "+dir+" is missing")
		require.NoDirExists(t, dir, "a vanished store dir is never created again")
		require.NoError(t, os.Rename(aside, dir))
		requireBack(t, s, v, 2)
	})
	t.Run("dir missing before anything was seen", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "store")
		s := newFileStore(t, dir)
		require.NoError(t, os.Remove(dir))
		requireGone(t, s, "is missing")
	})
	t.Run("dir swapped for an empty one, then back", func(t *testing.T) {
		s, dir, v := saved(t)
		aside := dir + ".aside"
		require.NoError(t, os.Rename(dir, aside))
		require.NoError(t, os.Mkdir(dir, 0o700))
		requireGone(t, s, "read or wrote it before")
		require.NoError(t, os.Remove(dir))
		require.NoError(t, os.Rename(aside, dir))
		requireBack(t, s, v, 2)
	})
	t.Run("another file system mounted on the dir, then unmounted", func(t *testing.T) {
		s, dir, v := saved(t)
		if !mount(t, dir) {
			return
		}
		requireGone(t, s, "another file system")
		// Even with a config on it: the store is elsewhere now.
		require.NoError(t, os.WriteFile(s.Path(), []byte("{}"), 0o600))
		_, _, err := s.Load(ctx)
		require.ErrorIs(t, err, sources.ErrStoreGone)
		umount(t, dir)
		requireBack(t, s, v, 2)
	})
}

// TestFileStore_CheckWrite: CheckWrite rewrites the config unchanged and
// fails as a save would.
func TestFileStore_CheckWrite(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "store")
	s := newFileStore(t, dir)
	require.NoError(t, s.CheckWrite(ctx), "nothing stored: a temp file is written and removed")
	require.NoFileExists(t, s.Path())
	v, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	before, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	require.NoError(t, s.CheckWrite(ctx))
	after, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	require.Equal(t, before, after)
	_, got, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v, got)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), ".global.config.tmp-"), "temp file left: %s", e.Name())
	}
	require.NoError(t, os.Rename(dir, dir+".aside"))
	require.ErrorIs(t, s.CheckWrite(ctx), sources.ErrStoreGone)
}

// mount mounts a tmpfs on dir, or skips (outside CI) without the right to.
func mount(t *testing.T, dir string) bool {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs CAP_SYS_ADMIN): %v: %s", err, out)
		return false
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return true
}

func umount(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("umount", dir).CombinedOutput()
	require.NoError(t, err, "umount: %s", out)
}
