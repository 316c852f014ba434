package plugin

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNamedClientFindsPluginStartedLater(t *testing.T) {
	dir := sockDir(t)
	n := NewNamedClient(Dir{Path: dir}, "group-stateless", ClientOptions{})
	defer n.Close()
	require.Equal(t, "group-stateless", n.Name())
	_, err := n.InspectGroups(context.Background())
	require.EqualError(t, err, "Plugin not found: group-stateless")
	require.ErrorIs(t, err, ErrPluginNotFound)

	f := newFakeGroup()
	s, err := Serve(filepath.Join(dir, "group-stateless"), f, DefaultServerOptions())
	require.NoError(t, err)
	details, err := n.CommitGroup(context.Background(), Spec{ID: "cattle", Properties: cattleProps}, false)
	require.NoError(t, err)
	require.Equal(t, "Managing 2 instances", details)
	d, err := n.DescribeGroup(context.Background(), "cattle")
	require.NoError(t, err)
	require.True(t, d.Converged)
	require.NoError(t, n.FreeGroup(context.Background(), "cattle"))
	require.ErrorContains(t, n.DestroyGroup(context.Background(), "cattle"), "not being watched")
	apis, err := n.Implements(context.Background())
	require.NoError(t, err)
	require.Equal(t, []InterfaceSpec{GroupInterface}, apis)

	require.NoError(t, s.Stop(stopCtx(t)))
	_, err = n.InspectGroups(context.Background())
	require.ErrorIs(t, err, ErrPluginNotFound, "a stopped plugin is gone")
}

// TestNamedClientRehandshakesRestartedPlugin: the same socket is reused with
// its handshake; a plugin restarted on the same path gets a new handshake.
func TestNamedClientRehandshakesRestartedPlugin(t *testing.T) {
	dir := sockDir(t)
	path := filepath.Join(dir, "group-stateless")
	rec := &recorder{next: NewHandler(newFakeGroup(), DefaultServerOptions())}
	start := func() *http.Server {
		ln, err := Listen(path)
		require.NoError(t, err)
		srv := &http.Server{Handler: rec}
		go func() { _ = srv.Serve(ln) }()
		return srv
	}
	n := NewNamedClient(Dir{Path: dir}, "group-stateless", ClientOptions{})
	defer n.Close()

	first := start()
	for range 3 {
		_, err := n.InspectGroups(context.Background())
		require.NoError(t, err)
	}
	require.Equal(t, 1, rec.count("Plugin.Implements"))
	require.NoError(t, first.Close()) // closes the listener, which removes the socket
	require.NoFileExists(t, path)

	second := start()
	defer func() { _ = second.Close() }()
	for range 2 {
		_, err := n.InspectGroups(context.Background())
		require.NoError(t, err)
	}
	require.Equal(t, 2, rec.count("Plugin.Implements"), "a restarted plugin is handshaken again")
	require.Equal(t, 5, rec.count("Group.InspectGroups"))
}
