package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun_ExitCodes(t *testing.T) {
	dir, err := os.MkdirTemp("", "ikm")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	leader := filepath.Join(dir, "leader")
	require.NoError(t, os.WriteFile(leader, []byte("someone-else\n"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "configs"), 0o700))
	osArgs := []string{"--plugin-dir", filepath.Join(dir, "plugins"), "--leader-file", leader, "--store-dir", filepath.Join(dir, "configs")}
	typo := []string{"--plugin-dir", filepath.Join(dir, "plugins"), "--leader-file", leader, "--store-dir", filepath.Join(dir, "confgs")}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() })

	cases := []struct {
		name string
		args []string
		want int
	}{
		{"version", []string{"version"}, 0},
		{"log level out of range", []string{"--log", "9", "version"}, 2},
		{"log format unknown", []string{"--log-format", "xml", "version"}, 2},
		{"dry run without once", append([]string{"os", "--dry-run"}, osArgs...), 2},
		{"unknown flag", []string{"os", "--bogus"}, 2},
		{"unknown command", []string{"bogus"}, 2},
		{"etcd without endpoints", []string{"etcd"}, 2},
		{"extra argument", []string{"os", "extra"}, 2},
		{"name equals proxy", append([]string{"os", "--name", "x", "--proxy-for-group", "x", "--once"}, osArgs...), 2},
		{"metrics address in use", append([]string{"os", "--metrics-addr", busy.Addr().String()}, osArgs...), 2},
		{"metrics address without port", append([]string{"os", "--metrics-addr", "localhost"}, osArgs...), 2},
		{"completion", []string{"completion", "bash"}, 0},
		{"name escapes the plugin dir", append([]string{"os", "--name", "../escape", "--once"}, osArgs...), 2},
		{"name with NUL", append([]string{"os", "--name", "a\x00b", "--once"}, osArgs...), 2},
		{"proxy name too long", append([]string{"os", "--proxy-for-group", strings.Repeat("g", 65), "--once"}, osArgs...), 2},
		{"swarm host with unknown scheme", []string{"swarm", "--host", "bogus://x"}, 2},
		{"zero workers", append([]string{"os", "--workers", "0", "--once"}, osArgs...), 2},
		{"handover unknown", append([]string{"os", "--handover", "quick", "--once"}, osArgs...), 2},
		{"handover margin zero", append([]string{"os", "--handover-margin", "0s", "--once"}, osArgs...), 2},
		{"swarm handover unknown", []string{"swarm", "--handover", "quick", "--host", "unix:///nonexistent.sock"}, 2},
		// A follower with nothing stored and no downstream: observing the
		// downstream fails, so the pass cannot converge.
		{"once, downstream missing", append([]string{"--once", "os"}, osArgs...), 1},
		// A missing --store-dir is an unreadable store, not bad usage, and
		// is never created unless asked.
		{"store dir missing", append([]string{"os"}, typo...), 1},
		{"store dir missing, once", append([]string{"os", "--once"}, typo...), 1},
		// Global flags after the subcommand are accepted.
		{"once dry run, flags after subcommand", append([]string{"os", "--once", "--dry-run", "--log", "0"}, osArgs...), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, run(c.args))
		})
	}
	require.NoDirExists(t, filepath.Join(dir, "confgs"))
}
