package swarmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLabLifecycle drives every Lab operation on a 2-manager lab, then checks
// that Close leaves nothing behind: no directory, no netns, no daemon. It
// runs beside the sources/swarm tests' lab, so it also shows two labs coexist.
func TestLabLifecycle(t *testing.T) {
	l := StartLab(t, 2)
	for i := 1; i <= 2; i++ {
		host := l.Host(i)
		require.True(t, strings.HasPrefix(host, "unix://"+l.Dir()+"/"), host)
		_, err := os.Stat(strings.TrimPrefix(host, "unix://"))
		require.NoError(t, err, "socket of node %d", i)
	}
	leader := l.Leader(t)
	require.Contains(t, []int{1, 2}, leader)
	follower := 3 - leader

	l.Demote(t, follower)
	l.Wait(t) // one manager now
	require.Equal(t, leader, l.Leader(t))
	l.Promote(t, follower)
	l.Wait(t)

	l.Signal(t, follower, "STOP")
	l.Signal(t, follower, "CONT")
	l.Stop(t, follower, "KILL")
	l.Start(t, follower)
	l.Wait(t)
	require.Equal(t, leader, l.Leader(t))

	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	_, err := os.Stat(l.Dir())
	require.ErrorIs(t, err, os.ErrNotExist)
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	require.NoError(t, err, string(out))
	require.NotContains(t, string(out), l.netns)
	require.Empty(t, processesUnder(t, l.Dir()))
}

// processesUnder lists the command lines that name a path under dir.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process has gone
		}
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, dir+"/") {
			found = append(found, cmd)
		}
	}
	return found
}

func TestScriptIsFound(t *testing.T) {
	p, err := Script()
	require.NoError(t, err)
	require.FileExists(t, p)
	t.Setenv(ScriptEnv, "/elsewhere/swarm-lab.sh")
	p, err = Script()
	require.NoError(t, err)
	require.Equal(t, "/elsewhere/swarm-lab.sh", p)
}
