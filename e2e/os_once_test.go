package e2e

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runManagerOnce runs infrakit-manager to completion (a one-shot mode or a
// bad command line) and returns its output and exit code.
func runManagerOnce(t *testing.T, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	p := startProc(t, binary(t, "infrakit-manager"), nil, args...)
	exit = p.Wait(cliTimeout)
	return p.Stdout(), p.Stderr(), exit
}

// onceLine matches one action line of --once: action, group, reason and
// outcome, separated by runs of blanks.
func onceLine(action, group, outcome string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + action + `\s+` + group + `\s+.+\s` + regexp.QuoteMeta(outcome) + `$`)
}

// TestOSOnce: --once --dry-run prints the plan and acts on nothing; --once
// converges, prints each action and exits 0; a second --once has nothing
// to do; on a follower --once frees what runs there.
func TestOSOnce(t *testing.T) {
	c := newOSCluster(t, nameA)
	require.NoError(t, os.WriteFile(c.storePath(), []byte(originalStore), 0o600))
	a := c.node(nameA)
	a.startSim()
	once := func(extra ...string) (string, string, int) {
		t.Helper()
		return runManagerOnce(t, append([]string{"--once"}, a.managerArgs(extra...)...)...)
	}
	mark := time.Now().UnixNano()

	out, errOut, exit := once("--dry-run")
	require.Equal(t, 0, exit, errOut)
	require.Regexp(t, `(?m)^role: leader$`, out)
	require.Regexp(t, onceLine("commit", "cattle", "would run"), out)
	require.Contains(t, out, "groups: 1, committed: 0, freed: 0, failed: 0, planned: 1\n")
	require.True(t, a.runs(), "a dry run acts on nothing")
	require.Empty(t, a.eventsSince(mark, "commit", "cattle"))

	out, errOut, exit = once()
	require.Equal(t, 0, exit, errOut)
	require.Regexp(t, onceLine("commit", "cattle", "ok: Managing 2 instances"), out)
	require.Contains(t, out, "groups: 1, committed: 1, freed: 0, failed: 0, planned: 0\n")
	require.True(t, a.runs("cattle"))

	out, errOut, exit = once()
	require.Equal(t, 0, exit, errOut)
	require.Regexp(t, `(?m)^noop\s+cattle\s`, out)
	require.Contains(t, out, "groups: 1, committed: 0, freed: 0, failed: 0, planned: 0\n")

	c.setLeader("someone-else")
	out, errOut, exit = once()
	require.Equal(t, 0, exit, errOut)
	require.Regexp(t, `(?m)^role: follower$`, out)
	require.Regexp(t, onceLine("free", "cattle", "ok"), out)
	require.Contains(t, out, "groups: 1, committed: 0, freed: 1, failed: 0, planned: 0\n")
	require.True(t, a.runs())
	require.Equal(t, []string{"cattle"}, c.stored(), "--once never writes the store")
}

// TestOSOnceFailingDownstream: --once against a downstream that fails every
// commit reports the failure and exits 1.
func TestOSOnceFailingDownstream(t *testing.T) {
	c := newOSCluster(t, nameA)
	require.NoError(t, os.WriteFile(c.storePath(), []byte(originalStore), 0o600))
	a := c.node(nameA)
	a.startSim("--fail", "CommitGroup")
	out, errOut, exit := runManagerOnce(t, append([]string{"--once"}, a.managerArgs()...)...)
	require.Equal(t, 1, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.Regexp(t, `(?m)^commit\s+cattle\s.*failed: .*simulated failure: CommitGroup`, out)
	require.Contains(t, out, "groups: 1, committed: 0, freed: 0, failed: 1, planned: 0\n")
	require.Contains(t, errOut, "not converged")
	require.True(t, a.runs())
}

// TestOSManagerUsage: a bad command line exits 2 with a message, and
// starts nothing.
func TestOSManagerUsage(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", a.managerArgs("--bogus"), "unknown flag"},
		{"log level out of range", append([]string{"--log", "9"}, a.managerArgs()...), "--log"},
		{"dry run without once", append([]string{"--dry-run"}, a.managerArgs()...), "--dry-run"},
		{"argument to os", a.managerArgs("extra"), "extra"},
		{"unknown mode", []string{"--plugin-dir", a.dir, "nosuch"}, "nosuch"},
		{"bad duration", a.managerArgs("--poll-interval", "soon"), "soon"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, exit := runManagerOnce(t, tc.args...)
			require.Equal(t, 2, exit, errOut)
			require.Contains(t, errOut, tc.want)
			require.NoFileExists(t, a.socket())
		})
	}
}
