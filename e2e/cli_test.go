package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// cliSpec is the group spec of the wire samples.
const cliSpec = `{
  "ID": "cattle",
  "Properties": {
    "Allocation": {"Size": 2},
    "Instance": {"Plugin": "instance-file", "Properties": {"Note": "Instance properties version 1.0"}},
    "Flavor": {"Plugin": "flavor-vanilla", "Properties": {"Init": ["echo hello"], "Tags": {"tier": "web", "project": "infrakit"}}}
  }
}`

// cliInspect is `infrakit group inspect cattle` against a group-default
// plugin (wire sample §5 re-indented by the CLI).
const cliInspect = `{
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
      "Size": 3,
      "LogicalIDs": null
    }
  }
}
`

// fatal matches the CLI's error line for msg (logfmt-quoted as printed).
// notFound is the fatal message for a plugin missing from dir: the
// original's text, then the directory searched and what to do.
func notFound(name, dir string) string {
	return `"Plugin not found: ` + name + ` (no socket of that name in ` + dir +
		`: start the plugin there, or set --plugin-dir or $INFRAKIT_PLUGINS_DIR to its directory)"`
}

func fatal(msg string) *regexp.Regexp {
	return regexp.MustCompile(`^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^"]*" level=fatal msg=` + regexp.QuoteMeta(msg) + "\n$")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestCLIAgainstSimProcess(t *testing.T) {
	dir := shortTempDir(t)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	sim := startSim(t, dir, "group", "--events", events)
	spec := writeFile(t, "cattle.json", cliSpec)

	// run asserts a successful command and its exact stdout.
	run := func(want string, args ...string) {
		t.Helper()
		out, errOut, code := runCLI(t, dir, args...)
		require.Equal(t, 0, code, "infrakit %v: %s", args, errOut)
		require.Equal(t, want, out, "infrakit %v", args)
	}
	// fail asserts exit code 1, no stdout and the fatal line for msg.
	fail := func(msg string, args ...string) {
		t.Helper()
		out, errOut, code := runCLI(t, dir, args...)
		require.Equal(t, 1, code, "infrakit %v", args)
		require.Empty(t, out)
		require.Regexp(t, fatal(msg), errOut, "infrakit %v", args)
	}

	run("NAME\tLISTEN\ngroup\t"+dir+"/group\n", "plugin", "ls")
	run("ID\n", "group", "ls")
	run("Committed cattle: Managing 2 instances\n", "group", "commit", spec)
	run("Committing cattle would involve: Noop\n", "group", "commit", spec, "--pretend")

	resized := strings.Replace(cliSpec, `"Size": 2`, `"Size": 3`, 1)
	out, errOut, code := runCLIStdin(t, dir, resized, "group", "commit", "-", "--pretend")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "Committing cattle would involve: Adding 1 instances to increase the group size to 3\n", out)
	out, errOut, code = runCLIStdin(t, dir, resized, "group", "commit", "-")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "Committed cattle: Adding 1 instances to increase the group size to 3\n", out)

	run("ID\ncattle\n", "group", "ls")
	run("cattle\n", "group", "ls", "-q")
	run(cliInspect, "group", "inspect", "cattle")

	out, errOut, code = runCLI(t, dir, "group", "describe", "cattle")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "ID                            \tLOGICAL                       \tTAGS", lines[0])
	row := regexp.MustCompile(`^instance-\d+ *\t  -    {24}\tinfrakit\.config_sha=8ONhIwhucCowu76eoohetlhtWaA=,infrakit\.group=cattle,project=infrakit,tier=web$`)
	for _, l := range lines[1:] {
		require.Regexp(t, row, l)
		require.Len(t, strings.SplitN(l, "\t", 2)[0], 30, "ID column padded to 30")
	}
	quiet, _, code := runCLI(t, dir, "group", "describe", "cattle", "-q")
	require.Equal(t, 0, code)
	require.Equal(t, strings.Join(lines[1:], "\n")+"\n", quiet, "-q drops only the header")

	fail(`"Group nosuch is not being watched"`, "group", "inspect", "nosuch")
	fail(`"Group 'nosuch' is not being watched"`, "group", "describe", "nosuch")

	run("Freed cattle\n", "group", "free", "cattle")
	run("ID\n", "group", "ls")
	fail(`"Group 'cattle' is not being watched"`, "group", "free", "cattle")

	run("Committed cattle: Managing 2 instances\n", "group", "commit", spec)
	run("destroy cattle initiated\n", "group", "destroy", "cattle")
	fail(`"Group 'cattle' is not being watched"`, "group", "destroy", "cattle")
	run("ID\n", "group", "ls")

	// invalid specs: rejected by the plugin, or by the CLI before any call
	fail(`"Group ID must not be blank"`, "group", "commit", writeFile(t, "noid.json", `{"Properties":{"Allocation":{"Size":1}}}`))
	fail(`"Allocation must not be blank"`, "group", "commit", writeFile(t, "noalloc.json", `{"ID":"x","Properties":{}}`))
	_, errOut, code = runCLI(t, dir, "group", "commit", writeFile(t, "bad.json", `{"ID":"x","Allocation":{"Size":1}}`))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `level=fatal msg="invalid group spec in `)
	require.Contains(t, errOut, `unknown field \"Allocation\"`)

	// global flags after the subcommand
	out, errOut, code = runCLI(t, t.TempDir(), "group", "ls", "--log", "5", "--plugin-dir", dir, "--timeout", "10s")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "ID\n", out)

	// the plugin saw every commit, free and destroy, pretend excluded
	evs, err := groupsim.ReadEventFile(events)
	require.NoError(t, err)
	var got []string
	for _, ev := range evs {
		if ev.Op == groupsim.OpInspect {
			continue // every ls reads the downstream
		}
		got = append(got, ev.Op+" "+ev.Group+" "+map[bool]string{true: "ok", false: "failed"}[ev.OK])
	}
	require.Equal(t, []string{
		"commit cattle ok", "commit cattle ok", "free cattle ok", "free cattle failed",
		"commit cattle ok", "destroy cattle ok", "destroy cattle failed",
		"commit  failed", "commit x failed",
	}, got)

	require.Equal(t, 0, sim.Stop(), "SIGTERM is a clean exit")
	_, err = os.Lstat(filepath.Join(dir, "group"))
	require.ErrorIs(t, err, os.ErrNotExist, "the socket is removed on stop")
	require.Contains(t, sim.Stderr(), `"msg":"listening"`)

	fail(notFound("group", dir), "group", "ls")
	run("NAME\tLISTEN\n", "plugin", "ls")
}

func TestCLIMissingPluginAndUsage(t *testing.T) {
	dir := shortTempDir(t)
	cases := []struct {
		name string
		args []string
		code int
		err  *regexp.Regexp
	}{
		{"missing plugin", []string{"group", "ls"}, 1, fatal(notFound("group", dir))},
		{"missing named plugin", []string{"group", "--name", "other", "describe", "x"}, 1, fatal(notFound("other", dir))},
		{"missing spec file", []string{"group", "commit", "/nonexistent.json"}, 1, fatal(`"read group spec: open /nonexistent.json: no such file or directory"`)},
		{"unknown command", []string{"group", "bogus"}, 2, regexp.MustCompile(`^Error: unknown command "bogus" for "infrakit group"\n`)},
		{"mistyped command", []string{"grop"}, 2, regexp.MustCompile(`^Error: unknown command "grop" for "infrakit"\n\nDid you mean this\?\n\tgroup\n`)},
		{"missing argument", []string{"group", "describe"}, 2, regexp.MustCompile(`^Error: accepts 1 arg\(s\), received 0\n`)},
		{"unknown flag", []string{"group", "ls", "--bogus"}, 2, regexp.MustCompile(`^Error: unknown flag: --bogus\n`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, dir, c.args...)
			require.Equal(t, c.code, code)
			require.Empty(t, out)
			require.Regexp(t, c.err, errOut)
		})
	}
}

func TestCLIVersion(t *testing.T) {
	out, _, code := runCLI(t, shortTempDir(t), "version")
	require.Equal(t, 0, code)
	// Without ldflags: what the toolchain recorded (VCS stamping may be off).
	require.Regexp(t, `^Version:    dev\nRevision:   \S+\nBuilt:      \S+\nGo version: go1\.\S+\n$`, out)

	// the release build stamps version, commit and date with -ldflags -X (Makefile)
	bin := filepath.Join(t.TempDir(), "infrakit")
	const pkg = "github.com/infrakit-manager/manager/internal/buildinfo"
	require.NoError(t, buildBinary("infrakit", bin, "-ldflags",
		"-X "+pkg+".version=0.2.0 -X "+pkg+".commit=0123abc -X "+pkg+".date=2026-11-30T12:00:00Z"))
	p := startProc(t, bin, nil, "version")
	require.Equal(t, 0, p.Wait(cliTimeout))
	require.Regexp(t, `^Version:    0\.2\.0\nRevision:   0123abc\nBuilt:      2026-11-30T12:00:00Z\nGo version: go1\.\S+\n$`, p.Stdout())
}

func TestSimFaultFlags(t *testing.T) {
	dir := shortTempDir(t)
	sim := startSim(t, dir, "group", "--fail", "CommitGroup,Group.DestroyGroup", "--latency", "1s", "--hang", "DescribeGroup", "--log", "5")
	spec := writeFile(t, "cattle.json", cliSpec)

	_, errOut, code := runCLI(t, dir, "group", "commit", spec)
	require.Equal(t, 1, code)
	require.Regexp(t, fatal(`"simulated failure: CommitGroup"`), errOut)
	_, errOut, code = runCLI(t, dir, "group", "destroy", "x")
	require.Equal(t, 1, code)
	require.Regexp(t, fatal(`"simulated failure: DestroyGroup"`), errOut)

	// methods not named still work, after the latency
	out, errOut, code := runCLI(t, dir, "group", "ls")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "ID\n", out)

	// the latency outlasts a shorter client deadline
	_, errOut, code = runCLI(t, dir, "--timeout", "100ms", "group", "ls")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "context deadline exceeded")

	// a hanging method holds the caller until its deadline
	_, errOut, code = runCLI(t, dir, "--timeout", "1500ms", "group", "describe", "x")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "context deadline exceeded")
	require.Equal(t, 1, strings.Count(sim.Stderr(), `"msg":"hanging call"`))

	// a call hanging at shutdown does not keep the sim from a clean stop
	cli := startProc(t, binary(t, "infrakit"), nil, "--plugin-dir", dir, "group", "describe", "x")
	require.Eventually(t, func() bool {
		return strings.Count(sim.Stderr(), `"msg":"hanging call"`) == 2
	}, socketWait, 10*time.Millisecond, "the second describe reaches the hang")
	require.Equal(t, 0, sim.Stop())
	require.Equal(t, 1, cli.Wait(cliTimeout))
	require.Contains(t, cli.Stderr(), "level=fatal")
}

func TestSimSocketHandling(t *testing.T) {
	dir := shortTempDir(t)
	first := startSim(t, dir, "group")

	// a second server refuses the live socket and leaves it alone
	second := startProc(t, binary(t, "infrakit-group-sim"), nil, "--plugin-dir", dir, "--name", "group")
	require.Equal(t, 1, second.Wait(stopTimeout))
	require.Contains(t, second.Stderr(), "another plugin is already serving at "+dir+"/group")
	out, errOut, code := runCLI(t, dir, "group", "ls")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "ID\n", out)

	// kill -9 leaves a stale socket, which the next server replaces
	first.Kill()
	_, err := os.Lstat(filepath.Join(dir, "group"))
	require.NoError(t, err, "kill -9 leaves the socket behind")
	_, errOut, code = runCLI(t, dir, "group", "ls")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "unreachable")

	third := startSim(t, dir, "group")
	out, errOut, code = runCLI(t, dir, "group", "ls")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "ID\n", out)
	third.Signal(syscall.SIGINT)
	require.Equal(t, 0, third.Wait(stopTimeout))
}

func TestSimBadFlags(t *testing.T) {
	dir := shortTempDir(t)
	cases := []struct {
		name string
		args []string
		err  string
	}{
		{"unknown fail method", []string{"--fail", "Nope"}, `--fail: unknown method "Nope"`},
		{"unknown hang method", []string{"--hang", "CommitGroup,Nope"}, `--hang: unknown method "Nope"`},
		{"negative latency", []string{"--latency", "-1s"}, "--latency must not be negative"},
		{"bad name", []string{"--name", "a/b"}, `--name: invalid plugin name "a/b": must not contain '/'`},
		{"name escaping the plugin dir", []string{"--name", "../escape"}, `--name: invalid plugin name "../escape"`},
		{"bad log level", []string{"--log", "7"}, "--log must be between 0 and 5, got 7"},
		{"unknown flag", []string{"--bogus"}, "unknown flag: --bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startProc(t, binary(t, "infrakit-group-sim"), nil, append([]string{"--plugin-dir", dir}, c.args...)...)
			require.Equal(t, 2, p.Wait(stopTimeout), "a bad command line exits 2")
			require.Contains(t, p.Stderr(), c.err)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "no socket is left")
		})
	}
}
