package file_test

import (
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// sameBytes reports whether two Properties share their memory.
func sameBytes(a, b json.RawMessage) bool { return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0] }

func TestFileStore_LoadServesMemoryWhileTheFileIsUnchanged(t *testing.T) {
	s := newFileStore(t, t.TempDir())
	v1, err := s.Save(t.Context(), sourcestest.SampleConfig("a", "b"), "")
	require.NoError(t, err)
	first, ver, err := s.Load(t.Context())
	require.NoError(t, err)
	require.Equal(t, v1, ver)
	second, _, err := s.Load(t.Context())
	require.NoError(t, err)
	require.True(t, sameBytes(first.Groups["a"].Properties, second.Groups["a"].Properties), "not read again")

	// A touch (new times, same bytes) is read again and recognised: same version.
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(s.Path(), later, later))
	third, ver, err := s.Load(t.Context())
	require.NoError(t, err)
	require.Equal(t, v1, ver)
	require.True(t, sameBytes(first.Groups["a"].Properties, third.Groups["a"].Properties), "recognised as what was written")
	_, err = s.Save(t.Context(), sourcestest.SampleConfig("a"), v1)
	require.NoError(t, err, "a touch is not a conflict")
}

func TestFileStore_EverySaveWritesEncodeConfig(t *testing.T) {
	s := newFileStore(t, t.TempDir())
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	ver := sources.Version("")
	for i, change := range []func(){
		func() { cfg.Groups["b"] = sourcestest.SampleEntry("b") },
		func() { cfg.Groups["a"] = sourcestest.SampleEntry("a") },
		func() { cfg.Groups["c<&>"] = sources.Entry{Plugin: "p", Properties: json.RawMessage(`{"x": [1, 2]}`)} },
		func() { cfg.Groups["a"] = sources.Entry{Plugin: "other", Properties: cfg.Groups["a"].Properties} },
		func() { delete(cfg.Groups, "b") },
		func() { clear(cfg.Groups) },
		func() { cfg.Groups["z"] = sources.Entry{Plugin: "none"} },
	} {
		change()
		v, err := s.Save(t.Context(), cfg, ver)
		require.NoError(t, err, "save %d", i)
		want, err := sources.EncodeConfig(cfg)
		require.NoError(t, err)
		requireContent(t, s.Path(), string(want))
		// A store that never saw the file agrees on the version.
		_, fresh, err := newFileStore(t, s.Path()[:len(s.Path())-len("/global.config")]).Load(t.Context())
		require.NoError(t, err)
		require.Equal(t, v, fresh, "save %d", i)
		ver = v
	}
}

func TestFileStore_LeavesLiveTempFilesAlone(t *testing.T) {
	dir := t.TempDir()
	s := newFileStore(t, dir)
	other := newFileStore(t, dir)
	v1, err := s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	p, err := s.Prepare(t.Context(), sourcestest.SampleConfig("a", "b"), v1)
	require.NoError(t, err)
	defer p.Abort()
	temps := func() []string {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			if e.Name() != "global.config" && e.Name() != ".global.config.lock" {
				out = append(out, e.Name())
			}
		}
		return out
	}
	require.Len(t, temps(), 1)
	// Make the live temp file look old: only its lock keeps it.
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(dir+"/"+temps()[0], old, old))

	_, err = other.Save(t.Context(), sourcestest.SampleConfig("a", "c"), v1)
	require.NoError(t, err)
	require.Len(t, temps(), 1, "another writer's save removed a live temp file")
	_, err = p.Commit(t.Context())
	require.ErrorIs(t, err, sources.ErrConflict)
	require.Empty(t, temps(), "a conflicting commit removes its temp file")
}

func TestFileStore_StaleTempCleanupNeverHangsOnAFIFO(t *testing.T) {
	dir := t.TempDir()
	s := newFileStore(t, dir)
	v1, err := s.Save(t.Context(), sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	fifo := dir + "/.global.config.tmp-fifo"
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(fifo, old, old))
	_, err = s.Save(t.Context(), sourcestest.SampleConfig("a", "b"), v1)
	require.NoError(t, err)
	fi, err := os.Lstat(fifo)
	require.NoError(t, err)
	require.Equal(t, os.ModeNamedPipe, fi.Mode().Type(), "not a temp file of ours: left alone")
}
