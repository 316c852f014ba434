package controller

import (
	"context"
	"net/url"
	"path/filepath"
	"slices"
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
