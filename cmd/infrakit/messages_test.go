package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every error a user sees for the cases a new user could not act on names
// what is involved (the path, flag or endpoint) and is free of transport
// noise; a mistyped command gets suggestions.
func TestMessages_NameWhatIsInvolved(t *testing.T) {
	dir, _ := serveSim(t, "group")

	// A socket file nothing listens on any more: the plugin died.
	stale := filepath.Join(dir, "dead")
	l, err := net.Listen("unix", stale)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\n  \"ID\": \"x\",\n  \"Properties\": {\"a\": 1,}\n}\n"), 0o600))
	empty := filepath.Join(t.TempDir(), "plugins")

	cases := []struct {
		name    string
		args    []string
		want    []string // each must be in stderr
		notWant []string
	}{
		{"plugin not found names the directory and the flag",
			[]string{"--plugin-dir", empty, "group", "ls"},
			[]string{"Plugin not found: group", empty, "--plugin-dir", "INFRAKIT_PLUGINS_DIR"}, nil},
		{"an unreachable plugin names its socket, without the placeholder URL",
			[]string{"--plugin-dir", dir, "--timeout", "2s", "group", "--name", "dead", "ls"},
			[]string{stale, "unreachable", "connection refused"}, []string{"http://a/", `Post \"`}},
		{"a JSON error in a spec file names the file, line and column",
			[]string{"--plugin-dir", dir, "group", "commit", bad},
			[]string{bad, "line 3, column 25", "invalid character '}'"}, nil},
		{"a spec file that is missing is named",
			[]string{"--plugin-dir", dir, "group", "commit", "/nonexistent/spec.json"},
			[]string{"/nonexistent/spec.json"}, nil},
		{"a mistyped command gets suggestions",
			[]string{"grop"}, []string{`unknown command "grop"`, "Did you mean this?", "group"}, nil},
		{"a mistyped subcommand gets suggestions",
			[]string{"group", "comit"}, []string{`unknown command "comit"`, "commit"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, errOut, code := cli(t, "", c.args...)
			require.NotEqual(t, 0, code)
			require.Less(t, time.Since(start), 20*time.Second)
			for _, w := range c.want {
				require.Contains(t, errOut, w)
			}
			for _, w := range c.notWant {
				require.NotContains(t, errOut, w)
			}
		})
	}
}
