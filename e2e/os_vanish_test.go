package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 22: a store that vanished is unknown, never empty. Each case takes
// the store of a serving leader that runs 20 groups away (the directory
// removed, swapped for an empty one, another file system mounted on it),
// and checks that nothing is freed, /readyz answers 503 naming the store,
// `infrakit manager status` says why, the manager logs it once at error
// level, and it recovers by itself when the store is back. The .ci/run
// lines are "vanished store: case=<case> frees=<n> ...".

// vanishGroups is how many groups the leader runs when its store vanishes.
const vanishGroups = 20

// mountOver mounts an empty tmpfs on dir and returns its unmount; ok is
// false (outside CI) when mounting is not allowed.
func mountOver(t *testing.T, dir string, size string) (umount func(), ok bool) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs on %s: %v: %s", dir, err, out)
		}
		t.Logf("cannot mount a tmpfs (%v: %s): case skipped", err, strings.TrimSpace(string(out)))
		return nil, false
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	return func() {
		t.Helper()
		out, err := exec.Command("umount", dir).CombinedOutput()
		require.NoError(t, err, "umount %s: %s", dir, out)
		mounted = false
	}, true
}

// managerStatus runs `infrakit manager status` on the node.
func (n *osNode) managerStatus() (out string, exit int) {
	n.c.t.Helper()
	out, errOut, exit := runCLI(n.c.t, n.dir, "manager", "--name", n.name, "status")
	return out + errOut, exit
}

func TestOSVanishedStore(t *testing.T) {
	cases := []struct {
		name     string
		mount    bool
		vanish   func(t *testing.T, dir string) (back func())
		recovers string // how it comes back
	}{
		{name: "removed", recovers: "directory restored",
			vanish: func(t *testing.T, dir string) func() {
				require.NoError(t, os.Rename(dir, dir+".aside"))
				return func() { require.NoError(t, os.Rename(dir+".aside", dir)) }
			}},
		{name: "swapped", recovers: "directory restored",
			vanish: func(t *testing.T, dir string) func() {
				require.NoError(t, os.Rename(dir, dir+".aside"))
				require.NoError(t, os.Mkdir(dir, 0o700))
				return func() {
					require.NoError(t, os.RemoveAll(dir))
					require.NoError(t, os.Rename(dir+".aside", dir))
				}
			}},
		{name: "unmounted", mount: true, recovers: "tmpfs unmounted",
			vanish: func(t *testing.T, dir string) func() {
				umount, ok := mountOver(t, dir, "8m")
				if !ok {
					t.Skip("needs a tmpfs mount (CAP_SYS_ADMIN)")
				}
				return umount
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newOSCluster(t, nameA)
			ids := make([]string, vanishGroups)
			for i := range ids {
				ids[i] = fmt.Sprintf("v%02d", i)
			}
			stored := c.storeGroups(ids...)
			a := c.node(nameA)
			a.startSim()
			a.startManager("--metrics-addr", "127.0.0.1:0")
			addr := a.opsAddr()
			require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
			mark := time.Now().UnixNano()

			back := tc.vanish(t, c.storeDir)
			var body string
			require.Eventually(t, func() bool {
				var code int
				code, body = httpGet(t, addr, "/readyz")
				return code == http.StatusServiceUnavailable && strings.Contains(body, "store vanished")
			}, eventually, tick, "readyz never said the store vanished: %s", body)
			// Four resyncs (500ms) with the store gone.
			require.Never(t, func() bool { return a.allEvents(mark, "free", stored...) > 0 }, 2500*time.Millisecond, 50*time.Millisecond,
				"a vanished store freed groups")
			status, exit := a.managerStatus()
			require.Equal(t, 1, exit, status)
			require.Contains(t, status, "NOT HEALTHY")
			require.Contains(t, status, "store vanished")
			_, errOut, exit := a.cli("ls")
			require.Equal(t, 1, exit, "ls must not answer no groups")
			require.Contains(t, errOut, "store vanished")
			logged := strings.Count(a.mgr.Stderr(), "sync failed, retrying")
			require.GreaterOrEqual(t, logged, 1, "the vanished store is logged at error level")
			require.LessOrEqual(t, logged, 2, "logged once per change, not once per resync")
			frees := a.allEvents(mark, "free", stored...)
			reason := firstLine(body)

			back()
			require.Eventually(t, func() bool {
				code, _ := httpGet(t, addr, "/readyz")
				return code == http.StatusOK
			}, eventually, tick, "readyz did not recover")
			require.Eventually(t, func() bool {
				status, exit = a.managerStatus()
				return exit == 0
			}, eventually, tick, "status did not recover: %s", status)
			require.True(t, a.runs(stored...))
			frees = a.allEvents(mark, "free", stored...) // the whole run, recovery included
			t.Logf("vanished store: case=%s groups=%d frees=%d error-logs=%d recovered=%q readyz=%q",
				tc.name, len(stored), frees, logged, tc.recovers, reason)
			require.Zero(t, frees)
			require.Equal(t, 0, a.mgr.Stop())
		})
	}
}

// TestOSVanishedStoreReset: a person resets a store by writing {}: the
// groups it held are then freed, and the manager is healthy again.
func TestOSVanishedStoreReset(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("r1", "r2")
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	require.NoError(t, os.Remove(c.storePath()))
	require.Eventually(t, func() bool {
		status, _ := a.managerStatus()
		return strings.Contains(status, "write {} to it to reset")
	}, eventually, tick)
	require.True(t, a.runs(stored...), "a removed global.config freed groups")
	require.NoError(t, os.WriteFile(c.storePath(), []byte("{}"), 0o600))
	require.Eventually(t, func() bool { return a.runs() }, eventually, tick, "{} resets the store to no groups")
	status, exit := a.managerStatus()
	require.Equal(t, 0, exit, status)
	t.Logf("vanished store: case=reset-with-{} frees=%d (the reset frees what it held)", len(stored))
	require.Equal(t, 0, a.mgr.Stop())
}

// TestOSOnceStoreDirTypo: --once with a mistyped --store-dir acts on
// nothing, creates nothing and exits 1 naming the flag.
func TestOSOnceStoreDirTypo(t *testing.T) {
	c := newOSCluster(t, nameA)
	stored := c.storeGroups("t1", "t2")
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	require.Eventually(t, func() bool { return a.runs(stored...) }, eventually, tick)
	require.Equal(t, 0, a.mgr.Stop())
	mark := time.Now().UnixNano()
	typo := filepath.Join(c.root, "stroe")
	args := []string{"--once", "--name", a.name, "--plugin-dir", a.dir, "os",
		"--leader-file", c.leaderFile, "--store-dir", typo}
	out, errOut, exit := runManagerOnce(t, args...)
	calls := a.allEvents(mark, "free", stored...) + a.allEvents(mark, "commit", stored...) + a.allEvents(mark, "destroy", stored...)
	frees := a.allEvents(mark, "free", stored...)
	t.Logf("vanished store: case=once-typo exit=%d frees=%d downstream-changes=%d", exit, frees, calls)
	require.Equal(t, 1, exit, "stdout: %s\nstderr: %s", out, errOut)
	require.Contains(t, errOut, "--store-dir "+typo)
	require.Contains(t, errOut, "--store-create")
	require.Zero(t, calls)
	require.NoDirExists(t, typo)
	require.True(t, a.runs(stored...))
}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
