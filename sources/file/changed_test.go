//go:build unix

package file

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// TestPrepareChangedIsPrepare: a save prepared from the changed groups
// alone writes the same file, with the same version, as Prepare of the
// whole config, for every kind of change (replace, add, remove, a move to
// or from the pending destroys, a name given twice, nothing changed).
func TestPrepareChangedIsPrepare(t *testing.T) {
	entry := func(v string) sources.Entry {
		return sources.Entry{Plugin: "group", Properties: json.RawMessage(`{"V":"` + v + `"}`)}
	}
	base := sources.Config{Groups: map[plugin.ID]sources.Entry{}, Destroying: map[plugin.ID]sources.Entry{"d1": entry("d1")}}
	for i := range 20 {
		base.Groups[plugin.ID(fmt.Sprintf("g%02d", i))] = entry("0")
	}
	for _, tc := range []struct {
		name   string
		change func(c *sources.Config)
		ids    []plugin.ID
	}{
		{"replace", func(c *sources.Config) { c.Groups["g03"] = entry("1") }, []plugin.ID{"g03"}},
		{"add first and last", func(c *sources.Config) { c.Groups["a"] = entry("1"); c.Groups["z"] = entry("1") }, []plugin.ID{"z", "a"}},
		{"remove", func(c *sources.Config) { delete(c.Groups, "g07") }, []plugin.ID{"g07"}},
		{"to destroying", func(c *sources.Config) { c.Destroying["g01"] = c.Groups["g01"]; delete(c.Groups, "g01") }, []plugin.ID{"g01"}},
		{"destroy done", func(c *sources.Config) { delete(c.Destroying, "d1") }, []plugin.ID{"d1"}},
		{"stored again", func(c *sources.Config) { c.Groups["d1"] = entry("2"); delete(c.Destroying, "d1") }, []plugin.ID{"d1"}},
		{"named twice, mixed", func(c *sources.Config) {
			c.Groups["g05"] = entry("5")
			delete(c.Groups, "g06")
			c.Groups["new"] = entry("n")
		}, []plugin.ID{"g05", "g06", "g05", "new"}},
		{"nothing changed", func(*sources.Config) {}, []plugin.ID{"g02"}},
		{"not stored, not changed", func(*sources.Config) {}, []plugin.ID{"ghost"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			whole, part := newTestStore(t), newTestStore(t)
			v1, err := whole.Save(ctx, base, "")
			require.NoError(t, err)
			v2, err := part.Save(ctx, base, "")
			require.NoError(t, err)
			require.Equal(t, v1, v2)

			full := sources.Config{Groups: maps.Clone(base.Groups), Destroying: maps.Clone(base.Destroying)}
			tc.change(&full)
			delta := sources.Config{Groups: map[plugin.ID]sources.Entry{}, Destroying: map[plugin.ID]sources.Entry{}}
			for _, id := range tc.ids {
				if e, ok := full.Groups[id]; ok {
					delta.Groups[id] = e
				}
				if e, ok := full.Destroying[id]; ok {
					delta.Destroying[id] = e
				}
			}
			pw, err := whole.Prepare(ctx, full, v1)
			require.NoError(t, err)
			defer pw.Abort()
			pp, err := part.PrepareChanged(ctx, delta, v2, tc.ids)
			require.NoError(t, err)
			defer pp.Abort()
			vw, err := pw.Commit(ctx)
			require.NoError(t, err)
			vp, err := pp.Commit(ctx)
			require.NoError(t, err)
			require.Equal(t, vw, vp, "same version")
			a, err := os.ReadFile(whole.path)
			require.NoError(t, err)
			b, err := os.ReadFile(part.path)
			require.NoError(t, err)
			require.Equal(t, string(a), string(b), "same file")
			want, err := sources.EncodeConfig(full)
			require.NoError(t, err)
			require.Equal(t, string(want), string(b), "the original format")
		})
	}
}

// TestPrepareChangedConflict: a stale expected version is refused as by
// Prepare, and nothing is written.
func TestPrepareChangedConflict(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	v, err := s.Save(ctx, sources.Config{Groups: map[plugin.ID]sources.Entry{"a": {Plugin: "group", Properties: json.RawMessage(`{}`)}}}, "")
	require.NoError(t, err)
	_, err = s.PrepareChanged(ctx, sources.Config{}, "stale", []plugin.ID{"a"})
	require.ErrorIs(t, err, sources.ErrConflict)
	_, now, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v, now)
}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	o := DefaultStoreOptions()
	o.Dir = t.TempDir()
	s, err := NewStore(o)
	require.NoError(t, err)
	return s
}
