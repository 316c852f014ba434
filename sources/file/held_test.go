//go:build unix

package file

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// TestSaveHoldsTheFileItWrote: a save keeps the file it renamed over the
// config open, and the next save releases it (closes it) once done, so the
// replaced version is freed after that save rather than inside its rename.
// The config is the new version throughout.
func TestSaveHoldsTheFileItWrote(t *testing.T) {
	o := DefaultStoreOptions()
	o.Dir = t.TempDir()
	s, err := NewStore(o)
	require.NoError(t, err)
	ctx := context.Background()
	save := func(gen string, v sources.Version) sources.Version {
		cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{
			"web": {Plugin: "group", Properties: json.RawMessage(`{"Gen":` + gen + `}`)},
		}}
		nv, err := s.Save(ctx, cfg, v)
		require.NoError(t, err)
		got, lv, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, nv, lv)
		require.JSONEq(t, `{"Gen":`+gen+`}`, string(got.Groups["web"].Properties))
		return nv
	}
	held := func() *os.File {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.held
	}
	sameAsConfig := func(f *os.File) {
		t.Helper()
		a, err := f.Stat()
		require.NoError(t, err)
		b, err := os.Stat(s.path)
		require.NoError(t, err)
		require.True(t, os.SameFile(a, b), "the held file is the config")
	}
	v := save("1", "")
	first := held()
	require.NotNil(t, first)
	sameAsConfig(first)
	save("2", v)
	second := held()
	require.NotSame(t, first, second)
	sameAsConfig(second)
	require.Eventually(t, func() bool {
		_, err := first.Stat()
		return errors.Is(err, os.ErrClosed)
	}, 10*time.Second, 5*time.Millisecond, "the replaced version is released")
}
