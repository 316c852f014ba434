package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

const cattle = `{"ID":"cattle","Properties":{"Allocation":{"Size":2},"Instance":{"Plugin":"instance-file","Properties":{"Note":"Instance properties version 1.0"}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Init":["echo hello"],"Tags":{"tier":"web","project":"infrakit"}}}}}`

// serveSim serves a groupsim plugin as name in a fresh short plugin dir.
func serveSim(t *testing.T, name string) (dir string, sim *groupsim.Plugin) {
	t.Helper()
	dir, err := os.MkdirTemp("", "ik")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sim, err = groupsim.New(groupsim.DefaultOptions())
	require.NoError(t, err)
	srv, err := plugin.Serve(filepath.Join(dir, name), sim, plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() {
		sim.Close()
		require.NoError(t, srv.Stop(context.Background()))
	})
	return dir, sim
}

// cli runs the CLI in-process.
func cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(t.Context(), args, streams{in: strings.NewReader(stdin), out: &out, err: &errOut})
	return out.String(), errOut.String(), code
}

func TestGroupCommands(t *testing.T) {
	dir, _ := serveSim(t, "group")
	spec := filepath.Join(t.TempDir(), "cattle.json")
	require.NoError(t, os.WriteFile(spec, []byte(cattle), 0o600))
	pd := "--plugin-dir=" + dir

	out, errOut, code := cli(t, "", pd, "group", "commit", spec)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "Committed cattle: Managing 2 instances\n", out)

	out, _, code = cli(t, cattle, "group", "commit", "-", "--pretend", pd)
	require.Equal(t, 0, code)
	require.Equal(t, "Committing cattle would involve: Noop\n", out)

	out, _, code = cli(t, "", "group", "ls", pd)
	require.Equal(t, 0, code)
	require.Equal(t, "ID\ncattle\n", out)

	out, _, code = cli(t, "", "group", "describe", "cattle", pd)
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, "ID                            \tLOGICAL                       \tTAGS", lines[0])
	for _, l := range lines[1:] {
		require.Regexp(t, `^instance-\d+ *\t  -    {24}\tinfrakit.config_sha=8ONhIwhucCowu76eoohetlhtWaA=,infrakit.group=cattle,project=infrakit,tier=web$`, l)
	}

	out, _, code = cli(t, "", "group", "inspect", "cattle", pd)
	require.Equal(t, 0, code)
	require.Equal(t, `{
  "ID": "cattle",
  "Properties": {
    "Instance": {
      "Plugin": "instance-file",
      "Properties": {
        "Note": "Instance properties version 1.0"
      }
    },
    "Flavor": {
      "Plugin": "flavor-vanilla",
      "Properties": {
        "Init": [
          "echo hello"
        ],
        "Tags": {
          "tier": "web",
          "project": "infrakit"
        }
      }
    },
    "Allocation": {
      "Size": 2,
      "LogicalIDs": null
    }
  }
}
`, out)

	_, errOut, code = cli(t, "", "group", "inspect", "nosuch", pd)
	require.Equal(t, 1, code)
	require.Regexp(t, `^time="[^"]+" level=fatal msg="Group nosuch is not being watched"\n$`, errOut)

	out, _, code = cli(t, "", "group", "free", "cattle", pd)
	require.Equal(t, 0, code)
	require.Equal(t, "Freed cattle\n", out)

	out, _, code = cli(t, "", "group", "ls", "-q", pd)
	require.Equal(t, 0, code)
	require.Equal(t, "", out)
}

func TestDescribeLogicalIDsQuiet(t *testing.T) {
	dir, sim := serveSim(t, "other")
	_, err := sim.CommitGroup(t.Context(), plugin.Spec{ID: "pets", Properties: []byte(`{"Allocation":{"LogicalIDs":["10.0.0.1"]},"Flavor":{"Properties":{"Tags":{"b":"2","a":"1"}}}}`)}, false)
	require.NoError(t, err)
	out, errOut, code := cli(t, "", "--plugin-dir", dir, "group", "--name", "other", "describe", "-q", "pets")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^instance-\d+ *\t10\.0\.0\.1 {22}\ta=1,b=2,infrakit\.config_sha=[^,]+,infrakit\.group=pets\n$`, out)
}

func TestErrors(t *testing.T) {
	dir, _ := serveSim(t, "group")
	write := func(content string) string {
		p := filepath.Join(t.TempDir(), "spec.json")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	cases := []struct {
		name string
		args []string
		msg  string // exact fatal message, logfmt-quoted as printed
	}{
		{"not watched", []string{"group", "describe", "nosuch"}, `"Group 'nosuch' is not being watched"`},
		{"destroy unknown", []string{"group", "destroy", "nosuch"}, `"Group 'nosuch' is not being watched"`},
		{"free unknown", []string{"group", "free", "nosuch"}, `"Group 'nosuch' is not being watched"`},
		{"blank id", []string{"group", "commit", write(`{"Properties":{}}`)}, `"Group ID must not be blank"`},
		{"missing plugin", []string{"group", "--name", "nosuch", "ls"}, `"Plugin not found: nosuch (no socket of that name in ` + dir +
			`: start the plugin there, or set --plugin-dir or $INFRAKIT_PLUGINS_DIR to its directory)"`},
		{"missing file", []string{"group", "commit", "/nonexistent/spec.json"}, `"read group spec: open /nonexistent/spec.json: no such file or directory"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := cli(t, "", append([]string{"--plugin-dir", dir}, c.args...)...)
			require.Equal(t, 1, code)
			require.Empty(t, out)
			require.Regexp(t, `^time="\d{4}-\d\d-\d\dT[^"]+" level=fatal msg=`, errOut)
			require.True(t, strings.HasSuffix(errOut, " level=fatal msg="+c.msg+"\n"), errOut)
		})
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"unknown command", []string{"nosuch"}, `Error: unknown command "nosuch" for "infrakit"`},
		{"unknown group command", []string{"group", "nosuch"}, `Error: unknown command "nosuch" for "infrakit group"`},
		{"unknown flag", []string{"group", "ls", "--bogus"}, "Error: unknown flag: --bogus"},
		{"missing arg", []string{"group", "free"}, "Error: accepts 1 arg(s), received 0"},
		{"extra arg", []string{"group", "ls", "x"}, `Error: unknown command "x" for "infrakit group ls"`},
		{"bad log level", []string{"--log", "9", "version"}, "Error: --log must be between 0 and 5, got 9"},
		{"bad timeout", []string{"--timeout", "0s", "version"}, "Error: --timeout must be positive, got 0s"},
		{"name with a slash", []string{"group", "ls", "--name", "../escape"}, `Error: --name: invalid plugin name "../escape": must not contain '/'`},
		{"empty name", []string{"group", "--name", "", "free", "x"}, `Error: --name: invalid plugin name "": must not be empty`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := cli(t, "", c.args...)
			require.Equal(t, 2, code)
			require.Empty(t, out)
			require.True(t, strings.HasPrefix(errOut, c.msg+"\n"), errOut)
			require.Contains(t, errOut, "--help' for usage.")
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{}, {"group"}, {"plugin"}, {"--help"}} {
		out, _, code := cli(t, "", args...)
		require.Equal(t, 0, code, args)
		require.Contains(t, out, "Usage:")
	}
	out, _, code := cli(t, "", "version", "--log=5")
	require.Equal(t, 0, code)
	require.Regexp(t, `^Version:    \S+\nRevision:   \S+\nBuilt:      \S+\nGo version: go\S+\n$`, out)
}

func TestPluginLs(t *testing.T) {
	dir, _ := serveSim(t, "zeta")
	srv, err := plugin.Serve(filepath.Join(dir, "alpha"), mustSim(t), plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "not-a-socket"), nil, 0o600))

	out, _, code := cli(t, "", "plugin", "ls", "--plugin-dir", dir)
	require.Equal(t, 0, code)
	require.Equal(t, "NAME\tLISTEN\nalpha\t"+dir+"/alpha\nzeta\t"+dir+"/zeta\n", out)

	out, _, code = cli(t, "", "plugin", "ls", "-q", "--plugin-dir", dir)
	require.Equal(t, 0, code)
	require.Equal(t, "alpha\t"+dir+"/alpha\nzeta\t"+dir+"/zeta\n", out)
}

func mustSim(t *testing.T) *groupsim.Plugin {
	t.Helper()
	sim, err := groupsim.New(groupsim.DefaultOptions())
	require.NoError(t, err)
	return sim
}

func TestTimeout(t *testing.T) {
	dir, sim := serveSim(t, "group")
	require.NoError(t, sim.SetFaults(groupsim.Faults{Hang: []string{groupsim.MethodInspectGroups}}))
	start := time.Now()
	_, errOut, code := cli(t, "", "--plugin-dir", dir, "--timeout", "200ms", "group", "ls")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "level=fatal msg=")
	require.Contains(t, errOut, "deadline exceeded")
	require.Less(t, time.Since(start), 20*time.Second, "the call gave up")
}
