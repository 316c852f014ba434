package e2e

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOSStaleSocket: a socket file nothing listens on, left where the
// manager's socket goes, is reclaimed by a new manager; so is the socket a
// kill -9'd manager leaves behind.
func TestOSStaleSocket(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()

	cases := []struct {
		name  string
		leave func(t *testing.T)
	}{
		{"listener closed without unlink", func(t *testing.T) {
			ln, err := net.Listen("unix", a.socket())
			require.NoError(t, err)
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
			require.NoError(t, ln.Close())
		}},
		{"manager killed with SIGKILL", func(t *testing.T) {
			a.startManager()
			a.mgr.Kill()
		}},
	}
	for _, tc := range cases {
		c.run(t, tc.name, func(t *testing.T) {
			tc.leave(t)
			require.FileExists(t, a.socket(), "a stale socket is left behind")
			_, errOut, exit := a.cli("ls")
			require.Equal(t, 1, exit, "nothing answers on the stale socket")
			require.NotEmpty(t, errOut)

			a.startManager()
			out, errOut, exit := a.cli("ls")
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "ID\n", out)
			require.Contains(t, a.mgr.Stderr(), "replaced stale socket")
			require.Equal(t, 0, a.mgr.Stop())
		})
	}
}

// TestOSLiveSocket: a second manager with the same --name in the same
// plugin directory refuses to start (exit 1, naming the socket) and does
// not disturb the first, which keeps serving on its socket.
func TestOSLiveSocket(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	first := a.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)

	second := startProc(t, binary(t, "infrakit-manager"), nil, a.managerArgs()...)
	require.Equal(t, 1, second.Wait(stopTimeout))
	require.Contains(t, second.Stderr(), a.socket())
	require.True(t, strings.Contains(second.Stderr(), "in use"), "stderr: %s", second.Stderr())

	require.False(t, first.exited())
	require.FileExists(t, a.socket())
	out, errOut, exit := a.cli("ls")
	require.Equal(t, 0, exit, errOut)
	require.Equal(t, "ID\ncattle\n", out)
	require.Equal(t, 0, first.Stop())
}
