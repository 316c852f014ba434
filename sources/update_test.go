package sources_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestConfig_Clone(t *testing.T) {
	t.Run("nil map stays nil", func(t *testing.T) {
		require.Nil(t, sources.Config{}.Clone().Groups)
	})
	t.Run("deep copy", func(t *testing.T) {
		orig := sources.Config{Groups: map[plugin.ID]sources.Entry{
			"a":     {Plugin: "p", Properties: json.RawMessage(`{"ID":"a"}`)},
			"empty": {Plugin: "p", Properties: json.RawMessage{}},
			"nil":   {Plugin: "p"},
		}}
		c := orig.Clone()
		require.Equal(t, orig, c)
		c.Groups["a"].Properties[2] = 'X'
		c.Groups["b"] = sources.Entry{}
		delete(c.Groups, "nil")
		require.JSONEq(t, `{"ID":"a"}`, string(orig.Groups["a"].Properties))
		require.Len(t, orig.Groups, 3)
		require.NotNil(t, orig.Groups["empty"].Properties)
		require.Nil(t, orig.Groups["nil"].Properties)
	})
}

// scriptedStore answers Load from a MemStore and Save from a func, to drive
// Update through conflicts.
type scriptedStore struct {
	*sourcestest.MemStore
	save func(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error)
}

func (s *scriptedStore) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	return s.save(ctx, cfg, expected)
}

func TestUpdate(t *testing.T) {
	add := func(id plugin.ID) func(*sources.Config) error {
		return func(c *sources.Config) error {
			c.Groups[id] = sourcestest.SampleEntry(id)
			return nil
		}
	}

	t.Run("gives up after 10 conflicts with the conflict error", func(t *testing.T) {
		mem := sourcestest.NewMemStore()
		saves := 0
		s := &scriptedStore{MemStore: mem, save: func(context.Context, sources.Config, sources.Version) (sources.Version, error) {
			saves++
			return "", fmt.Errorf("scripted: %w", sources.ErrConflict)
		}}
		_, _, err := sources.Update(t.Context(), s, add("a"))
		require.ErrorIs(t, err, sources.ErrConflict)
		require.Equal(t, 10, saves)
	})

	t.Run("retries a conflict from a fresh load", func(t *testing.T) {
		mem := sourcestest.NewMemStore()
		calls := 0
		s := &scriptedStore{MemStore: mem, save: func(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
			calls++
			if calls == 1 {
				// Another writer slips in between this Update's load and save.
				_, err := mem.Save(ctx, sourcestest.SampleConfig("other"), expected)
				require.NoError(t, err)
				_, err = mem.Save(ctx, cfg, expected)
				require.ErrorIs(t, err, sources.ErrConflict)
				return "", err
			}
			return mem.Save(ctx, cfg, expected)
		}}
		cfg, ver, err := sources.Update(t.Context(), s, add("mine"))
		require.NoError(t, err)
		require.Equal(t, 2, calls)
		sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("other", "mine"), cfg)
		loaded, loadedVer, err := mem.Load(t.Context())
		require.NoError(t, err)
		require.Equal(t, ver, loadedVer)
		sourcestest.RequireEqualConfig(t, cfg, loaded)
	})

	t.Run("load and save errors are returned", func(t *testing.T) {
		boom := errors.New("boom")
		mem := sourcestest.NewMemStore()
		mem.SetLoadError(boom)
		_, _, err := sources.Update(t.Context(), mem, add("a"))
		require.ErrorIs(t, err, boom)

		mem.SetLoadError(nil)
		mem.SetSaveError(boom)
		_, _, err = sources.Update(t.Context(), mem, add("a"))
		require.ErrorIs(t, err, boom)
		require.Zero(t, mem.Saves())
	})

	t.Run("mutate error aborts before saving", func(t *testing.T) {
		mem := sourcestest.NewMemStore()
		abort := errors.New("invalid spec")
		_, _, err := sources.Update(t.Context(), mem, func(*sources.Config) error { return abort })
		require.Equal(t, abort, err)
		require.Zero(t, mem.Saves())
	})

	t.Run("cancelled context stops the retries", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		mem := sourcestest.NewMemStore()
		s := &scriptedStore{MemStore: mem, save: func(context.Context, sources.Config, sources.Version) (sources.Version, error) {
			cancel()
			return "", sources.ErrConflict
		}}
		_, _, err := sources.Update(ctx, s, add("a"))
		require.ErrorIs(t, err, context.Canceled)
	})
}
