package grouptest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
	"github.com/infrakit-manager/manager/plugin/grouptest"
	"github.com/infrakit-manager/manager/sink"
)

func newSim(t *testing.T) *groupsim.Plugin {
	t.Helper()
	sim, err := groupsim.New(groupsim.DefaultOptions())
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	return sim
}

// serve serves g on a real unix socket in a short temp dir and returns the
// directory and the socket's name.
func serve(t *testing.T, g plugin.Group) (dir, name string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "gct")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	srv, err := plugin.Serve(filepath.Join(dir, "group-stateless"), g, plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})
	return dir, "group-stateless"
}

func TestSimulator(t *testing.T) {
	grouptest.RunGroupContract(t, func(t *testing.T) plugin.Group { return newSim(t) })
}

func TestClientOverServer(t *testing.T) {
	grouptest.RunGroupContract(t, func(t *testing.T) plugin.Group {
		dir, name := serve(t, newSim(t))
		c := plugin.NewClient(filepath.Join(dir, name), plugin.ClientOptions{Timeout: 5 * time.Second})
		t.Cleanup(c.Close)
		return c
	})
}

func TestSink(t *testing.T) {
	grouptest.RunGroupContract(t, func(t *testing.T) plugin.Group {
		dir, name := serve(t, newSim(t))
		o := sink.DefaultOptions(dir)
		o.Name = name
		d, err := sink.New(o)
		require.NoError(t, err)
		t.Cleanup(d.Close)
		return d
	})
}
