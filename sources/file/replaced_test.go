//go:build unix

package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// TestSaveLeavesNothingOpen: a save holds the version it replaces only
// until it is done (released in the background), so no descriptor of the
// store directory stays open between saves; the config is the new version.
func TestSaveLeavesNothingOpen(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var v sources.Version
	for _, gen := range []string{"1", "2", "3"} {
		cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{
			"web": {Plugin: "group", Properties: json.RawMessage(`{"Gen":` + gen + `}`)},
		}}
		nv, err := s.Save(ctx, cfg, v)
		require.NoError(t, err)
		got, lv, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, nv, lv)
		require.JSONEq(t, `{"Gen":`+gen+`}`, string(got.Groups["web"].Properties))
		v = nv
	}
	require.Eventually(t, func() bool { return openIn(t, s.dir) == 0 }, 10*time.Second, 5*time.Millisecond,
		"a descriptor of the store directory is still open")
}

// TestOpenReplacedNothingThere: no config yet, or something that cannot be
// opened, is no file (and release of it does nothing).
func TestOpenReplacedNothingThere(t *testing.T) {
	dir := t.TempDir()
	require.Nil(t, openReplaced(filepath.Join(dir, "global.config")))
	release(nil)
}

// openIn counts this process's descriptors of files under dir.
func openIn(t *testing.T, dir string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && filepath.Dir(target) == dir {
			n++
		}
	}
	return n
}
