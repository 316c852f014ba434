package sourcestest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

// RunStagerContract runs the behaviour every sources.Stager must have
// against stores made by newStore, each one new and empty. It fails if the
// store is not a Stager.
func RunStagerContract(t *testing.T, newStore func(t *testing.T) sources.Store) {
	t.Helper()
	ctx := context.Background()
	stager := func(t *testing.T) (sources.Store, sources.Stager) {
		s := newStore(t)
		st, ok := s.(sources.Stager)
		require.True(t, ok, "%T does not implement sources.Stager", s)
		return s, st
	}

	t.Run("prepare is invisible until commit", func(t *testing.T) {
		s, st := stager(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		p, err := st.Prepare(ctx, SampleConfig("a", "b"), v1)
		require.NoError(t, err)
		defer p.Abort()
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v1, ver)
		RequireEqualConfig(t, SampleConfig("a"), got)

		v2, err := p.Commit(ctx)
		require.NoError(t, err)
		require.NotEqual(t, v1, v2)
		got, ver, err = s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v2, ver)
		RequireEqualConfig(t, SampleConfig("a", "b"), got)

		_, err = p.Commit(ctx)
		require.Error(t, err, "a second Commit")
		p.Abort() // after Commit: nothing
		_, ver, err = s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v2, ver)
	})

	t.Run("abort changes nothing", func(t *testing.T) {
		s, st := stager(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		p, err := st.Prepare(ctx, SampleConfig("b"), v1)
		require.NoError(t, err)
		p.Abort()
		p.Abort()
		_, err = p.Commit(ctx)
		require.Error(t, err, "Commit after Abort")
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v1, ver)
		RequireEqualConfig(t, SampleConfig("a"), got)
		v2, err := s.Save(ctx, SampleConfig("c"), v1)
		require.NoError(t, err, "the store is usable after an abort")
		require.NotEqual(t, v1, v2)
	})

	t.Run("a save between prepare and commit makes commit conflict", func(t *testing.T) {
		s, st := stager(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		p, err := st.Prepare(ctx, SampleConfig("mine"), v1)
		require.NoError(t, err)
		defer p.Abort()
		v2, err := s.Save(ctx, SampleConfig("theirs"), v1)
		require.NoError(t, err)

		_, err = p.Commit(ctx)
		require.ErrorIs(t, err, sources.ErrConflict)
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v2, ver)
		RequireEqualConfig(t, SampleConfig("theirs"), got)
	})

	t.Run("stale version conflicts at prepare or commit", func(t *testing.T) {
		s, st := stager(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		v2, err := s.Save(ctx, SampleConfig("b"), v1)
		require.NoError(t, err)
		p, err := st.Prepare(ctx, SampleConfig("c"), v1)
		if err == nil {
			_, err = p.Commit(ctx)
			p.Abort()
		}
		require.ErrorIs(t, err, sources.ErrConflict)
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v2, ver)
		RequireEqualConfig(t, SampleConfig("b"), got)
	})

	t.Run("unchanged config commits", func(t *testing.T) {
		s, st := stager(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		loaded, _, err := s.Load(ctx)
		require.NoError(t, err)
		p, err := st.Prepare(ctx, loaded, v1)
		require.NoError(t, err)
		v2, err := p.Commit(ctx)
		require.NoError(t, err)
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v2, ver)
		RequireEqualConfig(t, SampleConfig("a"), got)
	})

	t.Run("cancelled commit changes nothing", func(t *testing.T) {
		s, st := stager(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		p, err := st.Prepare(ctx, SampleConfig("b"), v1)
		require.NoError(t, err)
		defer p.Abort()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = p.Commit(cctx)
		require.Error(t, err)
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.Equal(t, v1, ver)
		RequireEqualConfig(t, SampleConfig("a"), got)
	})
}

// ForeignWriter replaces the stored config the way something other than the
// store under test would (a person editing the file, another process, the
// original manager), bypassing that store.
type ForeignWriter func(t *testing.T, cfg sources.Config)

// RunForeignWriteContract checks that a store notices a change it did not
// make: Load returns it, and a Save or a prepared save against the version
// loaded before the change conflicts and leaves the foreign change intact.
// newStore returns a new, empty store and a writer to the same backing.
func RunForeignWriteContract(t *testing.T, newStore func(t *testing.T) (sources.Store, ForeignWriter)) {
	t.Helper()
	ctx := context.Background()

	t.Run("load sees a foreign write", func(t *testing.T) {
		s, foreign := newStore(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		_, _, err = s.Load(ctx) // cached now
		require.NoError(t, err)
		foreign(t, SampleConfig("a", "theirs"))
		got, ver, err := s.Load(ctx)
		require.NoError(t, err)
		require.NotEqual(t, v1, ver)
		RequireEqualConfig(t, SampleConfig("a", "theirs"), got)
	})

	t.Run("save over a foreign write conflicts", func(t *testing.T) {
		s, foreign := newStore(t)
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		foreign(t, SampleConfig("theirs"))
		_, err = s.Save(ctx, SampleConfig("mine"), v1)
		require.ErrorIs(t, err, sources.ErrConflict)
		got, _, err := s.Load(ctx)
		require.NoError(t, err)
		RequireEqualConfig(t, SampleConfig("theirs"), got)
	})

	t.Run("commit over a foreign write conflicts", func(t *testing.T) {
		s, foreign := newStore(t)
		st, ok := s.(sources.Stager)
		if !ok {
			t.Skipf("%T is not a sources.Stager", s)
		}
		v1, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		p, err := st.Prepare(ctx, SampleConfig("mine"), v1)
		require.NoError(t, err)
		defer p.Abort()
		foreign(t, SampleConfig("theirs"))
		_, err = p.Commit(ctx)
		require.ErrorIs(t, err, sources.ErrConflict)
		got, _, err := s.Load(ctx)
		require.NoError(t, err)
		RequireEqualConfig(t, SampleConfig("theirs"), got)
	})

	t.Run("the new version after a foreign write is good for a save", func(t *testing.T) {
		s, foreign := newStore(t)
		_, err := s.Save(ctx, SampleConfig("a"), "")
		require.NoError(t, err)
		foreign(t, SampleConfig("theirs"))
		_, _, err = sources.Update(ctx, s, func(c *sources.Config) error {
			c.Groups["mine"] = SampleEntry("mine")
			return nil
		})
		require.NoError(t, err)
		got, _, err := s.Load(ctx)
		require.NoError(t, err)
		RequireEqualConfig(t, SampleConfig("theirs", "mine"), got)
	})
}
