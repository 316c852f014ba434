package controller

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

func locationOf(t *testing.T, m *Manager) string {
	t.Helper()
	u, err := m.Group().(*front).LeaderLocation(context.Background())
	require.NoError(t, err)
	if u == nil {
		return ""
	}
	return u.String()
}

func TestLeaderLocation(t *testing.T) {
	locs, err := file.NewLocation(filepath.Join(t.TempDir(), "leader"))
	require.NoError(t, err)
	const url1 = "https://127.0.0.1:24801"
	checks := &ops.Checks{}
	with := func(advertise string, c *ops.Checks) func(*Options) {
		return func(o *Options) {
			o.Advertise, o.Locations, o.Checks = advertise, locs, c
			o.RenewInterval = 50 * time.Millisecond
		}
	}
	lead := newEnv(t, true, with(url1, checks))
	lead.leader.SetStatus(sources.Status{Leader: true, Holder: "m1"})
	follow := newEnv(t, false, with("https://127.0.0.1:24802", nil))
	follow.leader.SetStatus(sources.Status{Holder: "m1"})
	lead.start(t)
	follow.start(t)

	t.Run("the leader publishes its URL; the follower names it", func(t *testing.T) {
		eventually(t, func() bool {
			got, err := locs.Load(context.Background())
			return err == nil && got == sources.Location{Holder: "m1", URL: url1}
		}, "published")
		require.Equal(t, url1, locationOf(t, lead.m))
		eventually(t, func() bool { return locationOf(t, follow.m) == url1 }, "follower names the leader")
		st, err := follow.m.Group().(*front).Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, url1, st.Leader.String())
		require.True(t, slices.Contains(checks.ReadyDetails(context.Background()), "leader: "+url1))
	})
	t.Run("a location naming a former holder is not used", func(t *testing.T) {
		follow.leader.SetStatus(sources.Status{Holder: "m9"})
		eventually(t, func() bool { return locationOf(t, follow.m) == (&url.URL{Scheme: "infrakit", Host: "m9"}).String() },
			"the holder's name only")
	})
	t.Run("stepping down clears the leader's own location", func(t *testing.T) {
		lead.leader.SetStatus(sources.Status{Holder: "m9"})
		eventually(t, func() bool {
			got, err := locs.Load(context.Background())
			return err == nil && got == sources.Location{}
		}, "cleared")
	})
	t.Run("a successor's location is left alone", func(t *testing.T) {
		succ := sources.Location{Holder: "m9", URL: "https://127.0.0.1:24809"}
		require.NoError(t, locs.Publish(context.Background(), succ))
		eventually(t, func() bool { return locationOf(t, follow.m) == succ.URL }, "the follower names the successor")
		got, err := locs.Load(context.Background())
		require.NoError(t, err)
		require.Equal(t, succ, got)
	})
}

// failingClear fails the first fails Clear calls.
type failingClear struct {
	sources.LocationStore
	fails atomic.Int32
}

func (f *failingClear) Clear(ctx context.Context, holder string) error {
	if f.fails.Add(-1) >= 0 {
		return errors.New("injected: store busy")
	}
	return f.LocationStore.Clear(ctx, holder)
}

// TestLeaderLocationClearRetried: a Clear that fails on stepping down is
// tried again at the next refresh, so the former leader's URL does not stay
// published.
func TestLeaderLocationClearRetried(t *testing.T) {
	inner, err := file.NewLocation(filepath.Join(t.TempDir(), "leader"))
	require.NoError(t, err)
	locs := &failingClear{LocationStore: inner}
	locs.fails.Store(2)
	const url1 = "https://127.0.0.1:24801"
	lead := newEnv(t, true, func(o *Options) {
		o.Advertise, o.Locations = url1, locs
		o.RenewInterval = 50 * time.Millisecond
	})
	lead.leader.SetStatus(sources.Status{Leader: true, Holder: "m1"})
	lead.start(t)
	eventually(t, func() bool {
		got, err := inner.Load(context.Background())
		return err == nil && got.URL == url1
	}, "published")
	lead.leader.SetStatus(sources.Status{Holder: "m9"})
	eventually(t, func() bool {
		got, err := inner.Load(context.Background())
		return err == nil && got == sources.Location{}
	}, "cleared after the failed attempts")
	require.Less(t, locs.fails.Load(), int32(0), "the failing Clear was called and then retried")
}
