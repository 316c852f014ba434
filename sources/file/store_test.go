package file_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func newFileStore(t *testing.T, dir string) *file.Store {
	t.Helper()
	opts := file.DefaultStoreOptions()
	opts.Dir, opts.Create, opts.Log = dir, true, testr.New(t)
	s, err := file.NewStore(opts)
	require.NoError(t, err)
	return s
}

func TestFileStore_Contract(t *testing.T) {
	newStore := func(t *testing.T) sources.Store {
		return newFileStore(t, filepath.Join(t.TempDir(), "configs"))
	}
	sourcestest.RunStoreContract(t, newStore)
	sourcestest.RunStagerContract(t, newStore)
}

// foreignWriters are the ways someone else changes global.config.
var foreignWriters = map[string]func(t *testing.T, path string, data []byte){
	"write and rename": func(t *testing.T, path string, data []byte) {
		tmp := path + ".edit"
		require.NoError(t, os.WriteFile(tmp, data, 0o644))
		require.NoError(t, os.Rename(tmp, path))
	},
	"rewrite in place": func(t *testing.T, path string, data []byte) {
		require.NoError(t, os.WriteFile(path, data, 0o644))
	},
	"rewrite in place, same size, old times": func(t *testing.T, path string, data []byte) {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		// pad or cut to the current size: a valid config of the same length
		if n := int(fi.Size()); len(data) < n {
			data = append(data, bytes.Repeat([]byte(" "), n-len(data))...)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt(data, 0)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(int64(len(data))))
		require.NoError(t, f.Close())
		require.NoError(t, os.Chtimes(path, fi.ModTime(), fi.ModTime())) // mtime back; ctime moves anyway
	},
}

func TestFileStore_ForeignWriteContract(t *testing.T) {
	for name, write := range foreignWriters {
		t.Run(name, func(t *testing.T) {
			sourcestest.RunForeignWriteContract(t, func(t *testing.T) (sources.Store, sourcestest.ForeignWriter) {
				s := newFileStore(t, t.TempDir())
				return s, func(t *testing.T, cfg sources.Config) {
					data, err := json.Marshal(cfg) // compact: not the store's own format
					require.NoError(t, err)
					write(t, s.Path(), data)
				}
			})
		})
	}
}

func TestNewFileStore_Validates(t *testing.T) {
	plain := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(plain, nil, 0o600))
	cases := []struct {
		name    string
		dir     string
		create  bool
		err     string
		missing bool // the error wraps ErrStoreMissing
	}{
		{name: "empty dir", dir: "", err: "Dir must not be empty"},
		{name: "blank dir", dir: "  ", err: "Dir must not be empty"},
		{name: "dir is a file", dir: plain, err: "is not a directory"},
		{name: "missing dir is an error naming the field", dir: filepath.Join(t.TempDir(), "typo"), err: "Dir ", missing: true},
		{name: "missing dir is created when asked", dir: filepath.Join(t.TempDir(), "later"), create: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := file.DefaultStoreOptions()
			opts.Dir, opts.Create = c.dir, c.create
			s, err := file.NewStore(opts)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				if c.missing {
					require.ErrorIs(t, err, sources.ErrStoreMissing)
					require.ErrorContains(t, err, "set Create")
					_, statErr := os.Stat(c.dir)
					require.ErrorIs(t, statErr, os.ErrNotExist, "a missing dir must not be created unless asked")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, filepath.Join(c.dir, "global.config"), s.Path())
			fi, err := os.Stat(c.dir)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
			_, err = os.Stat(s.Path())
			require.ErrorIs(t, err, os.ErrNotExist, "NewStore writes no config")
		})
	}
}

func TestFileStore_OriginalFileIsByteCompatible(t *testing.T) {
	original, err := os.ReadFile(filepath.Join("..", "testdata", "original-global.config"))
	require.NoError(t, err)

	cfg, err := sources.DecodeConfig(original)
	require.NoError(t, err)
	again, err := sources.EncodeConfig(cfg)
	require.NoError(t, err)
	require.Equal(t, string(original), string(again))

	// Read through the store, save it back unchanged: same bytes on disk.
	dir := t.TempDir()
	s := newFileStore(t, dir)
	require.NoError(t, os.WriteFile(s.Path(), original, 0o644))
	loaded, ver, err := s.Load(t.Context())
	require.NoError(t, err)
	require.Equal(t, []plugin.ID{"cattle"}, keys(loaded))
	require.Equal(t, "group-stateless", loaded.Groups["cattle"].Plugin)
	require.JSONEq(t, `{"ID":"cattle","Properties":{
		"Allocation":{"Size":2},
		"Instance":{"Plugin":"instance-file","Properties":{"Note":"Instance properties version 1.0"}},
		"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Init":["echo hello"],"Tags":{"tier":"web","project":"infrakit"}}}}}`,
		string(loaded.Groups["cattle"].Properties))

	loaded.Groups["pets"] = sourcestest.SampleEntry("pets")
	v2, err := s.Save(t.Context(), loaded, ver)
	require.NoError(t, err)
	delete(loaded.Groups, "pets")
	_, err = s.Save(t.Context(), loaded, v2)
	require.NoError(t, err)
	onDisk, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	require.Equal(t, string(original), string(onDisk))
}

func TestFileStore_HandWrittenOriginalFormat(t *testing.T) {
	cases := []struct {
		name    string
		content string
		groups  []plugin.ID
	}{
		{name: "echo {} as the original's docs said", content: "{}\n", groups: nil},
		{name: "null groups", content: `{"Groups": null}`, groups: nil},
		{name: "compact one group", content: `{"Groups":{"web":{"Plugin":"group-stateless","Properties":{"ID":"web","Properties":{}}}}}`, groups: []plugin.ID{"web"}},
		{name: "tabs and CRLF", content: "{\r\n\t\"Groups\": {\r\n\t\t\"db\": {\"Plugin\": \"group-stateless\", \"Properties\": {\"ID\": \"db\"}}\r\n\t}\r\n}\r\n", groups: []plugin.ID{"db"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newFileStore(t, t.TempDir())
			require.NoError(t, os.WriteFile(s.Path(), []byte(c.content), 0o644))
			cfg, ver, err := s.Load(t.Context())
			require.NoError(t, err)
			require.NotEmpty(t, ver, "an existing file has a version")
			require.ElementsMatch(t, c.groups, keys(cfg))
			// The loaded version is good for a save.
			cfg = cfg.Clone()
			if cfg.Groups == nil {
				cfg.Groups = map[plugin.ID]sources.Entry{}
			}
			cfg.Groups["new"] = sourcestest.SampleEntry("new")
			_, err = s.Save(t.Context(), cfg, ver)
			require.NoError(t, err)
		})
	}
}

func TestFileStore_CorruptFileIsReportedAndNeverOverwritten(t *testing.T) {
	original, err := os.ReadFile(filepath.Join("..", "testdata", "original-global.config"))
	require.NoError(t, err)
	cases := []struct {
		name    string
		content string
		where   string
	}{
		{name: "truncated", content: string(original[:len(original)/2]), where: "line 15, column 1"},
		{name: "garbage", content: "garbage\n", where: "line 1, column"},
		{name: "wrong type", content: "{\n  \"Groups\": {\n    \"a\": {\"Plugin\": 7}\n  }\n}", where: "line 3"},
		{name: "trailing data", content: "{}\n{}", where: "line 2, column 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newFileStore(t, dir)
			require.NoError(t, os.WriteFile(s.Path(), []byte(c.content), 0o644))

			_, _, err := s.Load(t.Context())
			require.ErrorIs(t, err, sources.ErrCorrupt)
			require.ErrorContains(t, err, s.Path())
			require.ErrorContains(t, err, c.where)

			// Save refuses, whatever version it is given.
			for _, ver := range []sources.Version{"", "cfg:00"} {
				_, err = s.Save(t.Context(), sourcestest.SampleConfig("x"), ver)
				require.ErrorIs(t, err, sources.ErrCorrupt, "version %q", ver)
				require.ErrorContains(t, err, s.Path())
			}
			_, _, err = sources.Update(t.Context(), s, func(*sources.Config) error { return nil })
			require.ErrorIs(t, err, sources.ErrCorrupt)

			onDisk, err := os.ReadFile(s.Path())
			require.NoError(t, err)
			require.Equal(t, c.content, string(onDisk))
		})
	}
}

func TestFileStore_VersionIsTheConfigDigest(t *testing.T) {
	s := newFileStore(t, t.TempDir())
	// The same config by hand, compact: its version is the config's.
	require.NoError(t, os.WriteFile(s.Path(), []byte(`{"Groups":{"a":{"Plugin":"group-stateless","Properties":{"ID":"a","Properties":{"Allocation":{"Size":2}}}}}}`), 0o600))
	_, handVer, err := s.Load(t.Context())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(handVer), "cfg:"), handVer)

	other := newFileStore(t, t.TempDir())
	v1, err := other.Save(t.Context(), sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	require.Equal(t, handVer, v1, "same config, same version, whoever wrote it")

	// Saving the same config again keeps the version and writes nothing.
	before, err := os.Stat(other.Path())
	require.NoError(t, err)
	v2, err := other.Save(t.Context(), sourcestest.SampleConfig("a"), v1)
	require.NoError(t, err)
	require.Equal(t, v1, v2)
	after, err := os.Stat(other.Path())
	require.NoError(t, err)
	require.True(t, os.SameFile(before, after), "an unchanged config is not rewritten")

	// A different config has a different version; going back restores it.
	v3, err := other.Save(t.Context(), sourcestest.SampleConfig("a", "b"), v2)
	require.NoError(t, err)
	require.NotEqual(t, v1, v3)
	v4, err := other.Save(t.Context(), sourcestest.SampleConfig("a"), v3)
	require.NoError(t, err)
	require.Equal(t, v1, v4)
}

func TestFileStore_UnreadableAndUnwritable(t *testing.T) {
	t.Run("config is a directory", func(t *testing.T) {
		dir := t.TempDir()
		s := newFileStore(t, dir)
		require.NoError(t, os.Mkdir(s.Path(), 0o700))
		_, _, err := s.Load(t.Context())
		require.ErrorContains(t, err, s.Path())
		require.ErrorContains(t, err, "is a directory")
		_, err = s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
		require.ErrorContains(t, err, s.Path())
		fi, err := os.Stat(s.Path())
		require.NoError(t, err)
		require.True(t, fi.IsDir())
	})
	t.Run("dir is a regular file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "configs")
		s := newFileStore(t, dir)
		require.NoError(t, os.Remove(dir))
		require.NoError(t, os.WriteFile(dir, []byte("not a dir"), 0o600))
		_, _, err := s.Load(t.Context())
		require.ErrorContains(t, err, s.Path())
		require.ErrorContains(t, err, "not a directory")
		_, err = s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
		require.ErrorContains(t, err, dir)
		require.ErrorContains(t, err, "not a directory")
		data, err := os.ReadFile(dir)
		require.NoError(t, err)
		require.Equal(t, "not a dir", string(data))
	})
	t.Run("dir below a regular file is refused at once", func(t *testing.T) {
		plain := filepath.Join(t.TempDir(), "plain")
		require.NoError(t, os.WriteFile(plain, nil, 0o600))
		opts := file.DefaultStoreOptions()
		opts.Dir = filepath.Join(plain, "configs")
		_, err := file.NewStore(opts)
		require.ErrorContains(t, err, plain)
		require.ErrorContains(t, err, "not a directory")
	})
	t.Run("read-only dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions; covered by the cases above")
		}
		dir := t.TempDir()
		s := newFileStore(t, dir)
		require.NoError(t, os.WriteFile(s.Path(), []byte("{}"), 0o644))
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		_, ver, err := s.Load(t.Context())
		require.NoError(t, err)
		_, err = s.Save(t.Context(), sourcestest.SampleConfig("a"), ver)
		require.ErrorContains(t, err, dir)
		require.ErrorContains(t, err, "permission denied")
		onDisk, err := os.ReadFile(s.Path())
		require.NoError(t, err)
		require.Equal(t, "{}", string(onDisk))
	})
}

func TestFileStore_CreatesPrivateDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home", ".infrakit", "configs")
	s := newFileStore(t, dir)
	_, err := s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	for path, mode := range map[string]os.FileMode{
		dir:      0o700 | os.ModeDir,
		s.Path(): 0o600,
		filepath.Join(dir, ".global.config.lock"): 0o600,
	} {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, mode, fi.Mode()&(os.ModePerm|os.ModeDir), path)
	}
	data, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	require.False(t, strings.HasSuffix(string(data), "\n"), "the original wrote no trailing newline")
	require.True(t, strings.HasPrefix(string(data), "{\n    \"Groups\": {\n"), "the original's indentation")
}

func TestFileStore_LeftoverTempFileIsIgnoredAndRemoved(t *testing.T) {
	dir := t.TempDir()
	s := newFileStore(t, dir)
	v1, err := s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	// A crash between writing the temp file and renaming it leaves this.
	leftover := filepath.Join(dir, ".global.config.tmp-123456")
	require.NoError(t, os.WriteFile(leftover, []byte(`{"Groups":{"half`), 0o600))
	// A temp file touched recently may belong to a save in progress in
	// another process; one left alone for a minute is a crash's.
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(leftover, old, old))

	cfg, ver, err := s.Load(t.Context())
	require.NoError(t, err)
	require.Equal(t, v1, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("a"), cfg)

	_, err = s.Save(t.Context(), sourcestest.SampleConfig("a", "b"), v1)
	require.NoError(t, err)
	_, err = os.Stat(leftover)
	require.ErrorIs(t, err, os.ErrNotExist)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"global.config", ".global.config.lock"}, names)
}

func TestFileStore_SaveWaitsForLockAndHonoursContext(t *testing.T) {
	dir := t.TempDir()
	s := newFileStore(t, dir)
	unlock := holdLock(t, filepath.Join(dir, ".global.config.lock"))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
		done <- err
	}()
	require.Never(t, func() bool { return len(done) > 0 }, 200*time.Millisecond, 10*time.Millisecond,
		"Save finished while another writer held the lock")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	_, err := os.Stat(s.Path())
	require.ErrorIs(t, err, os.ErrNotExist)

	// Once the lock is free, a waiting Save goes through.
	go func() {
		_, err := s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
		done <- err
	}()
	require.Never(t, func() bool { return len(done) > 0 }, 100*time.Millisecond, 10*time.Millisecond)
	unlock()
	require.NoError(t, <-done)
	_, ver, err := s.Load(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, ver)
}

func keys(c sources.Config) []plugin.ID {
	out := []plugin.ID{}
	for id := range c.Groups {
		out = append(out, id)
	}
	return out
}
