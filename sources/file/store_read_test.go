package file_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// TestFileStore_RefusesWhatIsNotAConfigFile: whatever sits at the config
// path, Load and Save answer at once with an error naming the file, and
// nothing at the path is changed.
func TestFileStore_RefusesWhatIsNotAConfigFile(t *testing.T) {
	cases := []struct {
		name  string
		make  func(t *testing.T, path string)
		is    error  // the error wraps this, if set
		want  string // and says this
		check func(t *testing.T, path string)
	}{
		{
			name: "empty file", is: sources.ErrCorrupt, want: "write {} to it",
			make:  func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, nil, 0o600)) },
			check: func(t *testing.T, path string) { requireContent(t, path, "") },
		},
		{
			name: "blank file", is: sources.ErrCorrupt, want: "the file is empty",
			make:  func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, []byte(" \n\t\n"), 0o600)) },
			check: func(t *testing.T, path string) { requireContent(t, path, " \n\t\n") },
		},
		{
			name: "FIFO", want: "not a regular file",
			make:  func(t *testing.T, path string) { require.NoError(t, syscall.Mkfifo(path, 0o600)) },
			check: requireMode(os.ModeNamedPipe),
		},
		{
			name: "symlink to a FIFO", want: "not a regular file",
			make: func(t *testing.T, path string) {
				fifo := filepath.Join(t.TempDir(), "fifo")
				require.NoError(t, syscall.Mkfifo(fifo, 0o600))
				require.NoError(t, os.Symlink(fifo, path))
			},
			check: requireMode(os.ModeSymlink),
		},
		{
			name: "symlink to a device", want: "not a regular file",
			make:  func(t *testing.T, path string) { require.NoError(t, os.Symlink("/dev/zero", path)) },
			check: requireMode(os.ModeSymlink),
		},
		{
			name: "directory", want: "is a directory",
			make:  func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o700)) },
			check: requireMode(os.ModeDir),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newFileStore(t, t.TempDir())
			c.make(t, s.Path())
			_, _, err := s.Load(t.Context())
			require.Error(t, err)
			require.ErrorContains(t, err, s.Path())
			require.ErrorContains(t, err, c.want)
			if c.is != nil {
				require.ErrorIs(t, err, c.is)
			}
			for _, ver := range []sources.Version{"", "cfg:00"} {
				_, err = s.Save(t.Context(), sourcestest.SampleConfig("a"), ver)
				require.ErrorContains(t, err, s.Path())
				require.ErrorContains(t, err, c.want)
			}
			c.check(t, s.Path())
		})
	}
}

func requireContent(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, string(data))
}

func requireMode(want os.FileMode) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		fi, err := os.Lstat(path)
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Type(), "the path was replaced")
	}
}

func TestFileStore_SizeLimit(t *testing.T) {
	newLimited := func(t *testing.T, dir string, limit int64) *file.Store {
		t.Helper()
		opts := file.DefaultStoreOptions()
		opts.Dir, opts.MaxBytes, opts.Log = dir, limit, testr.New(t)
		s, err := file.NewStore(opts)
		require.NoError(t, err)
		return s
	}
	t.Run("a file over the limit is refused, not read in part", func(t *testing.T) {
		dir := t.TempDir()
		big, err := sources.EncodeConfig(sourcestest.SampleConfig("a", "b", "c"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "global.config"), big, 0o600))
		s := newLimited(t, dir, int64(len(big))-1)
		_, _, err = s.Load(t.Context())
		require.ErrorIs(t, err, sources.ErrTooLarge)
		require.ErrorContains(t, err, s.Path())
		require.ErrorContains(t, err, "--max-config-bytes")
		_, err = s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
		require.ErrorIs(t, err, sources.ErrTooLarge)
		requireContent(t, s.Path(), string(big))

		fits := newLimited(t, dir, int64(len(big)))
		cfg, _, err := fits.Load(t.Context())
		require.NoError(t, err)
		sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("a", "b", "c"), cfg)
	})
	t.Run("a save over the limit writes nothing", func(t *testing.T) {
		one, err := sources.EncodeConfig(sourcestest.SampleConfig("a"))
		require.NoError(t, err)
		s := newLimited(t, t.TempDir(), int64(len(one)))
		v1, err := s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
		require.NoError(t, err)
		_, err = s.Save(t.Context(), sourcestest.SampleConfig("a", "b"), v1)
		require.ErrorIs(t, err, sources.ErrTooLarge)
		require.ErrorContains(t, err, "limit is "+strconv.Itoa(len(one))+" bytes (--max-config-bytes)")
		requireContent(t, s.Path(), string(one))
		entries, err := os.ReadDir(filepath.Dir(s.Path()))
		require.NoError(t, err)
		for _, e := range entries {
			require.False(t, strings.HasPrefix(e.Name(), ".global.config.tmp-"), "temp file %s left", e.Name())
		}
	})
	t.Run("the limit must be positive", func(t *testing.T) {
		for _, limit := range []int64{-1, 0} {
			_, err := file.NewStore(file.StoreOptions{Dir: t.TempDir(), MaxBytes: limit})
			require.ErrorContains(t, err, "MaxBytes must be > 0")
		}
		opts := file.DefaultStoreOptions()
		opts.Dir = t.TempDir()
		before := opts
		require.NoError(t, opts.Validate())
		require.Equal(t, before, opts, "Validate changes nothing")
		require.Equal(t, int64(plugin.DefaultMaxStoreBytes), opts.MaxBytes)
	})
}
