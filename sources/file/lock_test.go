//go:build unix

package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLockFile_RefusesSymlinks(t *testing.T) {
	for _, tc := range []struct {
		name         string
		targetExists bool
	}{
		{"dangling symlink", false},
		{"symlink to a file", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			target := filepath.Join(outside, "planted")
			if tc.targetExists {
				require.NoError(t, os.WriteFile(target, []byte("keep"), 0o644))
			}
			lock := filepath.Join(dir, ".global.config.lock")
			require.NoError(t, os.Symlink(target, lock))

			unlock, err := lockFile(context.Background(), lock)
			require.Nil(t, unlock)
			require.ErrorContains(t, err, "is a symbolic link; refusing to follow it")

			data, err := os.ReadFile(target)
			if tc.targetExists {
				require.NoError(t, err)
				require.Equal(t, "keep", string(data))
			} else {
				require.ErrorIs(t, err, os.ErrNotExist, "the link's target must not be created")
			}
		})
	}
}

func TestLockFile_CreatesAndLocks(t *testing.T) {
	lock := filepath.Join(t.TempDir(), ".global.config.lock")
	unlock, err := lockFile(context.Background(), lock)
	require.NoError(t, err)
	fi, err := os.Lstat(lock)
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = lockFile(ctx, lock)
	require.ErrorIs(t, err, context.Canceled, "a second open must wait for the first lock")
	unlock()
	unlock2, err := lockFile(context.Background(), lock)
	require.NoError(t, err)
	unlock2()
}
