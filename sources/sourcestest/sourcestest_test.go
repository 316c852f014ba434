package sourcestest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestMemStore_Contract(t *testing.T) {
	sourcestest.RunStoreContract(t, func(*testing.T) sources.Store { return sourcestest.NewMemStore() })
}

func TestStaticLeadership_Contract(t *testing.T) {
	sourcestest.RunLeadershipContract(t, func(*testing.T) (sources.Leadership, func(bool)) {
		l := sourcestest.NewStaticLeadership(false)
		return l, l.Set
	})
}

func TestMemStore_Hooks(t *testing.T) {
	ctx := context.Background()
	s := sourcestest.NewMemStore()
	boom := errors.New("boom")

	s.SetSaveError(boom)
	_, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.ErrorIs(t, err, boom)
	require.Zero(t, s.Saves())
	s.SetSaveError(nil)
	v1, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	require.Equal(t, 1, s.Saves())

	s.SetLoadError(boom)
	_, _, err = s.Load(ctx)
	require.ErrorIs(t, err, boom)
	s.SetLoadError(nil)
	cfg, ver, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v1, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("a"), cfg)
}

func TestStaticLeadership_ErrorMeansNotLeader(t *testing.T) {
	l := sourcestest.NewStaticLeadership(true)
	w := sourcestest.StartWatch(t, l)
	require.True(t, w.Next(t))

	unknown := errors.New("status unknown")
	l.SetError(unknown)
	require.False(t, w.Next(t))
	leader, err := l.Check(context.Background())
	require.ErrorIs(t, err, unknown)
	require.False(t, leader)

	l.SetError(nil)
	require.True(t, w.Next(t))
	w.Stop(t)
	require.Zero(t, l.Watchers())
	require.Equal(t, []bool{true, false, true}, w.All())
}

func TestMemStore_StagerContract(t *testing.T) {
	sourcestest.RunStagerContract(t, func(*testing.T) sources.Store { return sourcestest.NewMemStore() })
}
