package sink_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
	"github.com/infrakit-manager/manager/sink"
)

// calls records what a sink reports to its CallObserver.
type calls struct {
	mu  sync.Mutex
	got []string
}

var _ sink.CallObserver = (*calls)(nil)

func (c *calls) ObserveCall(method, result string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		result += " negative duration"
	}
	c.got = append(c.got, method+" "+result)
}

func (c *calls) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// shortDir is a temporary directory short enough for a unix socket path.
func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "sink")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func TestObserver(t *testing.T) {
	dir := shortDir(t)
	sim, err := groupsim.New(groupsim.DefaultOptions())
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	require.NoError(t, sim.SetFaults(groupsim.Faults{Fail: []string{groupsim.MethodFreeGroup}}))
	srv, err := plugin.Serve(filepath.Join(dir, "down"), sim, plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	obs := &calls{}
	opts := sink.DefaultOptions(dir)
	opts.Name, opts.Observer = "down", obs
	d, err := sink.New(opts)
	require.NoError(t, err)
	t.Cleanup(d.Close)

	ctx := context.Background()
	_, err = d.InspectGroups(ctx)
	require.NoError(t, err)
	require.Error(t, d.FreeGroup(ctx, "g"))

	opts.Name = "absent"
	gone, err := sink.New(opts)
	require.NoError(t, err)
	t.Cleanup(gone.Close)
	_, err = gone.DescribeGroup(ctx, "g")
	require.Error(t, err)

	// A request our own send gate stopped never reached the plugin: it is
	// neither the plugin's error nor an unreachable plugin.
	gated := plugin.WithSendGate(ctx, func(context.Context) error { return errors.New("term ended") })
	err = d.FreeGroup(gated, "g")
	require.ErrorIs(t, err, plugin.ErrNotSent)

	require.Equal(t, []string{"InspectGroups ok", "FreeGroup error", "DescribeGroup unreachable", "FreeGroup not_sent"}, obs.list())
}

func TestOptions_ErrorsNameFlags(t *testing.T) {
	cases := []struct {
		name string
		edit func(*sink.Options)
		want string
	}{
		{"dir", func(o *sink.Options) { o.Dir.Path = "" }, "sink: Dir must not be empty"},
		{"name", func(o *sink.Options) { o.Name = "" }, "sink: Name must not be empty"},
		{"timeout", func(o *sink.Options) { o.CallTimeout = 0 }, "sink: CallTimeout must be > 0, got 0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := sink.DefaultOptions("/tmp")
			c.edit(&o)
			_, err := sink.New(o)
			require.EqualError(t, err, c.want)
		})
	}
}
