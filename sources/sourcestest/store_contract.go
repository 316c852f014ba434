package sourcestest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// contractWriters is how many goroutines race in the concurrent-update case.
// It stays below Update's 10 attempts: each failed attempt of one writer
// needs a successful save by another, so every writer must succeed.
const contractWriters = 8

// RunStoreContract runs the behaviour every sources.Store must have against
// stores made by newStore, each one new and empty.
func RunStoreContract(t *testing.T, newStore func(t *testing.T) sources.Store) {
	t.Helper()
	ctx := context.Background()

	t.Run("empty store loads empty config and version", func(t *testing.T) {
		s := newStore(t)
		cfg, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Empty(t, cfg.Groups)
		require.Equal(t, sources.Version(""), ver)
	})

	t.Run("save then load returns what was saved", func(t *testing.T) {
		s := newStore(t)
		want := SampleConfig("cattle", "pets")
		ver, err := s.Save(ctx, want, "")
		require.NoError(t, err)
		require.NotEmpty(t, ver)
		got, loaded, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, ver, loaded)
		RequireEqualConfig(t, want, got)
	})

	t.Run("pending destroys round-trip", func(t *testing.T) {
		s := newStore(t)
		want := SampleConfig("cattle")
		want.Destroying = map[plugin.ID]sources.Entry{"pets": SampleEntry("pets"), "odd/ü": SampleEntry("odd/ü")}
		v1, err := s.Save(ctx, want, "")
		require.NoError(t, err)
		got, loaded, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v1, loaded)
		RequireEqualConfig(t, want, got)
		// The destroy is carried out and the same ID committed again.
		next := SampleConfig("cattle", "pets")
		next.Destroying = map[plugin.ID]sources.Entry{"odd/ü": SampleEntry("odd/ü")}
		v2, err := s.Save(ctx, next, v1)
		require.NoError(t, err)
		require.NotEqual(t, v1, v2, "a change of the pending destroys alone is a new version")
		got, _, err = s.Load(ctx)
		require.NoError(t, err)
		RequireEqualConfig(t, next, got)
		_, err = s.Save(ctx, SampleConfig("cattle", "pets"), v2)
		require.NoError(t, err)
		got, _, err = s.Load(ctx)
		require.NoError(t, err)
		require.Empty(t, got.Destroying)
	})

	t.Run("stale version conflicts and changes nothing", func(t *testing.T) {
		s := newStore(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		v2, err := s.Save(ctx, SampleConfig("b"), v1)
		require.NoError(t, err)
		require.NotEqual(t, v1, v2)

		_, err = s.Save(ctx, SampleConfig("c"), v1)
		require.ErrorIs(t, err, sources.ErrConflict)
		_, err = s.Save(ctx, SampleConfig("c"), "")
		require.ErrorIs(t, err, sources.ErrConflict)

		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v2, ver)
		RequireEqualConfig(t, SampleConfig("b"), got)
	})

	t.Run("invalid properties are refused and change nothing", func(t *testing.T) {
		s := newStore(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		bad := SampleConfig("a")
		bad.Groups["a"] = sources.Entry{Plugin: "group-stateless", Properties: json.RawMessage(`{"ID":`)}
		_, err = s.Save(ctx, bad, v1)
		require.Error(t, err)
		require.NotErrorIs(t, err, sources.ErrConflict)
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v1, ver)
		RequireEqualConfig(t, SampleConfig("a"), got)
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make([]error, contractWriters)
		for i := range contractWriters {
			wg.Go(func() {
				id := plugin.ID(fmt.Sprintf("g%d", i))
				_, _, errs[i] = sources.Update(ctx, s, func(c *sources.Config) error {
					c.Groups[id] = SampleEntry(id)
					return nil
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "writer %d", i)
		}
		got, _, err := s.Load(ctx)
		require.NoError(t, err)
		want := SampleConfig()
		for i := range contractWriters {
			id := plugin.ID(fmt.Sprintf("g%d", i))
			want.Groups[id] = SampleEntry(id)
		}
		RequireEqualConfig(t, want, got)
	})

	t.Run("update aborted by mutate saves nothing", func(t *testing.T) {
		s := newStore(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		abort := errors.New("abort")
		_, _, err = sources.Update(ctx, s, func(c *sources.Config) error {
			delete(c.Groups, "a")
			return abort
		})
		require.ErrorIs(t, err, abort)
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v1, ver)
		RequireEqualConfig(t, SampleConfig("a"), got)
	})

	t.Run("loaded and cloned configs are independent of the store", func(t *testing.T) {
		s := newStore(t)
		saved := SampleConfig("a")
		_, err := s.Save(ctx, saved, "")
		require.NoError(t, err)
		saved.Groups["a"].Properties[0] = '[' // the caller's copy, not the store's
		delete(saved.Groups, "a")

		loaded, _, err := s.Load(ctx)
		require.NoError(t, err)
		clone := loaded.Clone()
		clone.Groups["a"].Properties[0] = '['
		clone.Groups["x"] = SampleEntry("x")
		RequireEqualConfig(t, SampleConfig("a"), loaded)

		loaded.Groups["a"] = SampleEntry("changed")
		again, _, err := s.Load(ctx)
		require.NoError(t, err)
		RequireEqualConfig(t, SampleConfig("a"), again)
	})

	t.Run("cancelled context is an error", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _, err := s.Load(cctx)
		require.Error(t, err)
		_, err = s.Save(cctx, SampleConfig("a"), "")
		require.Error(t, err)
		_, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, sources.Version(""), ver)
	})
}

// SampleEntry returns a stored group as the original manager wrote it: the
// whole spec {"ID":…,"Properties":…} under the plugin group-stateless.
func SampleEntry(id plugin.ID) sources.Entry {
	idJSON, _ := json.Marshal(string(id)) // marshalling a string cannot fail
	spec := json.RawMessage(`{"ID":` + string(idJSON) + `,"Properties":{"Allocation":{"Size":2}}}`)
	return sources.Entry{Plugin: "group-stateless", Properties: spec}
}

// SampleConfig returns a config holding SampleEntry for each id.
func SampleConfig(ids ...plugin.ID) sources.Config {
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for _, id := range ids {
		cfg.Groups[id] = SampleEntry(id)
	}
	return cfg
}

// RequireEqualConfig fails t unless want and got hold the same groups with
// the same plugins and JSON-equal properties (stores re-indent properties,
// so their bytes may differ), and the same pending destroys (Destroying).
// A nil and an empty map are equal.
func RequireEqualConfig(t testing.TB, want, got sources.Config) {
	t.Helper()
	requireEqualEntries(t, "group", want.Groups, got.Groups)
	requireEqualEntries(t, "pending destroy", want.Destroying, got.Destroying)
}

func requireEqualEntries(t testing.TB, what string, want, got map[plugin.ID]sources.Entry) {
	t.Helper()
	ids := func(m map[plugin.ID]sources.Entry) []plugin.ID {
		out := []plugin.ID{}
		for id := range m {
			out = append(out, id)
		}
		return out
	}
	require.ElementsMatch(t, ids(want), ids(got), "%s IDs", what)
	for id, w := range want {
		g := got[id]
		require.Equal(t, w.Plugin, g.Plugin, "plugin of %s %q", what, id)
		require.JSONEq(t, rawOrNull(w.Properties), rawOrNull(g.Properties), "properties of %s %q", what, id)
	}
}

func rawOrNull(m json.RawMessage) string {
	if len(m) == 0 {
		return "null"
	}
	return string(m)
}
