package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 22: health tells the truth. A store that cannot be written (no
// space, a read-only file system, a global.config bind-mounted so that a
// save cannot rename over it) and a downstream that cannot be found (a
// misspelled --proxy-for-group) turn /readyz 503 with the reason and
// `infrakit manager status` unhealthy; a store that can be written again is
// found by the manager's own write check, without a new commit. The .ci/run
// lines are "store health: case=<case> readyz=<code> reason=...".

// fillUp writes a file into dir until the file system is full and returns
// its path.
func fillUp(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=64k").CombinedOutput()
	require.Error(t, err, "dd should stop at a full disk")
	require.Contains(t, string(out), "No space left on device")
	return path
}

// readyzReason waits for /readyz to answer 503 containing want and
// returns the line that does.
func readyzReason(t *testing.T, addr, want string) string {
	t.Helper()
	var body string
	require.Eventually(t, func() bool {
		var code int
		code, body = httpGet(t, addr, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, want)
	}, eventually, tick, "readyz never said %q: %s", want, body)
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, want) {
			return l
		}
	}
	return body
}

func TestOSHealthStoreNotWritable(t *testing.T) {
	c := newOSCluster(t, nameA)
	umount, ok := mountOver(t, c.storeDir, "256k")
	if !ok {
		t.Skip("needs a tmpfs mount (CAP_SYS_ADMIN)")
	}
	defer umount()
	a := c.node(nameA)
	a.startSim()
	a.startManager("--metrics-addr", "127.0.0.1:0")
	addr := a.opsAddr()
	mgr := groupClient(t, a.socket())
	_, err := mgr.CommitGroup(t.Context(), faultSpec("h1"), false)
	require.NoError(t, err)
	code, body := httpGet(t, addr, "/readyz")
	require.Equal(t, http.StatusOK, code, body)

	cases := []struct {
		name     string
		breakIt  func(t *testing.T) (repair func())
		want     string
		recovers string
	}{
		{name: "enospc", want: "no space left on device", recovers: "filler removed",
			breakIt: func(t *testing.T) func() {
				filler := fillUp(t, c.storeDir)
				return func() { require.NoError(t, os.Remove(filler)) }
			}},
		{name: "read-only", want: "read-only file system", recovers: "remounted rw",
			breakIt: func(t *testing.T) func() {
				remount(t, c.storeDir, "ro")
				return func() { remount(t, c.storeDir, "rw") }
			}},
		{name: "ebusy", want: "device or resource busy", recovers: "bind mount removed",
			breakIt: func(t *testing.T) func() {
				// global.config bind-mounted from elsewhere: it reads, but a
				// save cannot rename over it.
				src := filepath.Join(c.root, "bound.config")
				require.NoError(t, os.WriteFile(src, fileBytes(t, c.storePath()), 0o600))
				out, err := exec.Command("mount", "--bind", src, c.storePath()).CombinedOutput()
				require.NoError(t, err, "bind mount: %s", out)
				return func() {
					out, err := exec.Command("umount", c.storePath()).CombinedOutput()
					require.NoError(t, err, "umount: %s", out)
				}
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repair := tc.breakIt(t)
			_, err := mgr.CommitGroup(t.Context(), faultSpec("h-"+tc.name), false)
			require.Error(t, err, "a commit to a store that cannot be written")
			require.ErrorContains(t, err, tc.want)
			reason := readyzReason(t, addr, "store writes: the last write failed")
			require.Contains(t, reason, tc.want)
			status, exit := a.managerStatus()
			require.Equal(t, 1, exit, status)
			require.Contains(t, status, "store cannot be written: the last write failed")
			require.Contains(t, status, tc.want)
			require.Contains(t, a.mgr.Stderr(), "store cannot be written")
			t.Logf("store health: case=%s readyz=503 reason=%q", tc.name, reason)

			repair()
			require.Eventually(t, func() bool {
				code, _ := httpGet(t, addr, "/readyz")
				return code == http.StatusOK
			}, eventually, tick, "readyz did not recover without a commit")
			t.Logf("store health: case=%s recovered=%q readyz=200 (found by the write check, no commit)", tc.name, tc.recovers)
			require.Equal(t, i+1, strings.Count(a.mgr.Stderr(), "store can be written again"))
			_, err = mgr.CommitGroup(t.Context(), faultSpec("h-"+tc.name), false)
			require.NoError(t, err)
		})
	}
	require.True(t, a.simRuns(t.Context(), "h1", "h-enospc", "h-read-only", "h-ebusy"))
	require.Equal(t, 0, a.mgr.Stop())
}

func TestOSHealthDownstreamNotFound(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager("--metrics-addr", "127.0.0.1:0", "--proxy-for-group", "group-statless")
	reason := readyzReason(t, a.opsAddr(), "not found")
	require.Contains(t, reason, `downstream "group-statless" not found in `+a.dir+" (check --proxy-for-group and --plugin-dir)")
	status, exit := a.managerStatus()
	require.Equal(t, 1, exit, status)
	require.Contains(t, status, `downstream "group-statless" not found`)
	t.Logf("store health: case=downstream-not-found readyz=503 reason=%q", reason)
	require.Equal(t, 0, a.mgr.Stop())
}
