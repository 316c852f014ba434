package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// originalStore is a global.config as the original manager wrote it
// (MarshalIndent with a two-space prefix, no trailing newline) holding the
// cattle group.
const originalStore = `{
    "Groups": {
      "cattle": {
        "Plugin": "group-stateless",
        "Properties": {
          "ID": "cattle",
          "Properties": {
            "Allocation": {
              "Size": 2
            },
            "Flavor": {
              "Plugin": "flavor-vanilla",
              "Properties": {
                "Init": [
                  "echo hello"
                ],
                "Tags": {
                  "project": "infrakit",
                  "tier": "web"
                }
              }
            },
            "Instance": {
              "Plugin": "instance-file",
              "Properties": {
                "Note": "Instance properties version 1.0"
              }
            }
          }
        }
      }
    }
  }`

// TestOSDownstreamRestart: the leader's downstream dies (kill -9, its groups
// gone from memory, its socket left behind) and is restarted; the periodic
// resync commits the stored groups to it again.
func TestOSDownstreamRestart(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	require.True(t, a.runs("cattle"))

	a.sim.Kill()
	require.True(t, a.runs(), "a killed downstream answers nothing")
	restart := time.Now().UnixNano()
	a.sim = startProc(t, binary(t, "infrakit-group-sim"), nil,
		"--plugin-dir", a.dir, "--name", downstream, "--events", a.events)
	// The new downstream replaces the stale socket, starts empty, and gets
	// cattle back from the manager's resync.
	at := a.firstEvent(restart, "commit", "cattle")
	require.Eventually(t, func() bool { return a.runs("cattle") }, eventually, tick)
	t.Logf("cattle re-committed %s after the downstream was restarted", ms(at-restart))
}

// TestOSInvalidSpec: a spec the downstream rejects gets the plugin's own
// message, exit 1, and is neither stored nor run.
func TestOSInvalidSpec(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	before := fileBytes(t, c.storePath())

	mark := time.Now().UnixNano()
	bad := c.writeSpec("bad", `{"ID":"bad","Properties":{"Instance":{"Plugin":"instance-file"},"Flavor":{"Plugin":"flavor-vanilla"}}}`)
	out, errOut, exit := a.cli("commit", bad)
	require.Equal(t, 1, exit, "stdout: %s", out)
	require.Contains(t, errOut, "Allocation must not be blank")
	require.Equal(t, before, fileBytes(t, c.storePath()), "the store is untouched")
	require.Equal(t, []string{"cattle"}, c.stored())
	require.True(t, a.runs("cattle"))
	require.Empty(t, a.eventsSince(mark, "commit", "bad"))

	out, errOut, exit = a.cli("ls")
	require.Equal(t, 0, exit, errOut)
	require.Equal(t, "ID\ncattle\n", out)
}

// TestOSCorruptStore: a truncated global.config makes commit and ls fail
// with an error naming the file; the file is left byte-identical, the
// running group is not freed on a guess, and the manager keeps answering.
// Once the file is fixed, everything works again.
func TestOSCorruptStore(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	good := fileBytes(t, c.storePath())

	for _, corrupt := range []struct{ name, content string }{
		{"truncated", string(good[:len(good)/2])},
		{"garbage", "\x00\x01 not json at all"},
	} {
		c.run(t, corrupt.name, func(t *testing.T) {
			mark, logMark := time.Now().UnixNano(), len(a.mgr.Stderr())
			logSince := func() string { return a.mgr.Stderr()[logMark:] }
			writeFileAtomic(t, c.storePath(), []byte(corrupt.content))
			pets := c.writeSpec("pets", petsSpec)
			for _, args := range [][]string{{"commit", pets}, {"ls"}} {
				out, errOut, exit := a.cli(args...)
				require.Equal(t, 1, exit, "%v: stdout %s", args, out)
				require.Contains(t, errOut, c.storePath(), "%v names the file", args)
				t.Logf("%v: %s", args, strings.TrimSpace(errOut))
			}
			require.Equal(t, corrupt.content, string(fileBytes(t, c.storePath())), "the file is left as it was")

			// The loop notices (its log names the file), and acts on nothing:
			// what it cannot read it does not free.
			require.Eventually(t, func() bool {
				return strings.Contains(logSince(), "sync failed") && strings.Contains(logSince(), c.storePath())
			}, eventually, tick, "manager log:\n%s", logSince())
			require.True(t, a.runs("cattle"))
			require.Empty(t, a.eventsSince(mark, "free", "cattle"))

			// Still serving: describe is answered by the downstream.
			out, errOut, exit := a.cli("describe", "cattle")
			require.Equal(t, 0, exit, errOut)
			require.Contains(t, out, "infrakit.group=cattle")

			writeFileAtomic(t, c.storePath(), good)
			require.Eventually(t, func() bool { return strings.Contains(logSince(), "sync recovered") }, eventually, tick)
			out, errOut, exit = a.cli("ls")
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "ID\ncattle\n", out)
		})
	}
	_, errOut, exit = a.cli("commit", c.writeSpec("pets", petsSpec))
	require.Equal(t, 0, exit, errOut)
	require.Equal(t, []string{"cattle", "pets"}, c.stored())
	require.True(t, a.runs("cattle", "pets"))
	require.False(t, a.mgr.exited(), "the manager kept running")
}

// TestOSManagerBeforeDownstream: the manager starts with a store the
// original manager wrote and no downstream at all; it serves (ls answers
// the store) and applies the stored group once the downstream appears.
func TestOSManagerBeforeDownstream(t *testing.T) {
	c := newOSCluster(t, nameA)
	require.NoError(t, os.WriteFile(c.storePath(), []byte(originalStore), 0o600))
	a := c.node(nameA)
	a.startManager()
	out, errOut, exit := a.cli("ls")
	require.Equal(t, 0, exit, errOut)
	require.Equal(t, "ID\ncattle\n", out)
	_, errOut, exit = a.cli("describe", "cattle")
	require.Equal(t, 1, exit)
	require.Contains(t, errOut, "Plugin not found: group-stateless")

	mark := time.Now().UnixNano()
	a.startSim()
	a.firstEvent(mark, "commit", "cattle")
	require.Eventually(t, func() bool { return a.runs("cattle") }, eventually, tick)
	out, errOut, exit = a.cli("describe", "cattle")
	require.Equal(t, 0, exit, errOut)
	require.Len(t, nonEmptyLines(out), 3, out)
	require.Equal(t, originalStore, string(fileBytes(t, c.storePath())), "reading never rewrites the store")
}

// TestOSSigterm: SIGTERM stops the manager cleanly (exit 0, socket
// removed) and leaves its groups running downstream, so that a restarted
// manager finds them as they were.
func TestOSSigterm(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)

	mark := time.Now().UnixNano()
	a.mgr.Signal(syscall.SIGTERM)
	require.Equal(t, 0, a.mgr.Wait(stopTimeout))
	_, err := os.Lstat(a.socket())
	require.ErrorIs(t, err, os.ErrNotExist, "the socket is removed")
	require.True(t, a.runs("cattle"), "groups keep running after the manager stops")
	require.Empty(t, a.eventsSince(mark, "free", "cattle"))
	require.Empty(t, a.eventsSince(mark, "destroy", "cattle"))
}
