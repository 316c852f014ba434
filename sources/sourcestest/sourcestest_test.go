package sourcestest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestMemStore_Contract(t *testing.T) {
	sourcestest.RunStoreContract(t, func(*testing.T) sources.Store { return sourcestest.NewMemStore() })
}

func TestStaticLeadership_Contract(t *testing.T) {
	sourcestest.RunLeadershipContract(t, func(*testing.T) sourcestest.LeadershipFixture {
		l := sourcestest.NewStaticLeadership(false)
		return sourcestest.LeadershipFixture{L: l, Set: l.Set, SetUnknown: func() { l.SetError(errors.New("unknown")) }}
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

func TestStaticLeadership_ErrorIsUnknownAndHangHonoursTheDeadline(t *testing.T) {
	l := sourcestest.NewStaticLeadership(true)
	p := sourcestest.StartPokes(t, l)
	p.Next(t)

	unknown := errors.New("status unknown")
	l.SetError(unknown)
	p.Next(t)
	_, err := l.Check(context.Background())
	require.ErrorIs(t, err, unknown)

	l.SetError(nil)
	st, err := l.Check(context.Background())
	require.NoError(t, err)
	require.True(t, st.Leader)

	l.SetHang(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = l.Check(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 3, l.Checks())
	p.Stop(t)
	require.Zero(t, l.Watchers())
}

func TestMemStore_StagerContract(t *testing.T) {
	sourcestest.RunStagerContract(t, func(*testing.T) sources.Store { return sourcestest.NewMemStore() })
}
