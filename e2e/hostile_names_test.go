package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHostileNamesAndFlags: names that would put a socket outside the
// plugin directory, and a --host with an unknown scheme, are refused at
// start with exit 2 and a message naming the flag; nothing is created.
func TestHostileNamesAndFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts real processes")
	}
	root := shortTempDir(t)
	dir := filepath.Join(root, "plugins")
	osFlags := []string{"--plugin-dir", dir, "os", "--leader-file", filepath.Join(root, "leader"), "--store-dir", filepath.Join(root, "store")}
	rows := []struct {
		name string
		bin  string
		args []string
		want string
	}{
		{"manager --name ../escape", "infrakit-manager", append([]string{"--name", "../escape"}, osFlags...),
			`--name: invalid plugin name "../escape": must not contain '/'`},
		{"manager --name with NUL", "infrakit-manager", append([]string{"--name", "a\x01b"}, osFlags...),
			"--name: invalid plugin name"},
		{"manager --name of 65 bytes", "infrakit-manager", append([]string{"--name", strings.Repeat("n", 65)}, osFlags...),
			"longer than 64"},
		{"manager --proxy-for-group ..", "infrakit-manager", append([]string{"--proxy-for-group", ".."}, osFlags...),
			`--proxy-for-group: invalid plugin name ".."`},
		{"swarm --host bogus://x", "infrakit-manager", []string{"--plugin-dir", dir, "swarm", "--host", "bogus://x"},
			`--host must be unix://PATH or tcp://HOST:PORT, got "bogus://x"`},
		{"simulator --name ../escape", "infrakit-group-sim", []string{"--plugin-dir", dir, "--name", "../escape"},
			`--name: invalid plugin name "../escape"`},
		{"CLI --name ../escape", "infrakit", []string{"--plugin-dir", dir, "group", "--name", "../escape", "ls"},
			`--name: invalid plugin name "../escape"`},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			p := startProc(t, binary(t, row.bin), nil, row.args...)
			code := p.Wait(stopTimeout)
			require.Equal(t, 2, code, "stderr: %s", p.Stderr())
			require.Contains(t, p.Stderr(), row.want)
			_, err := os.Lstat(filepath.Join(root, "escape"))
			require.ErrorIs(t, err, os.ErrNotExist, "a socket was created outside the plugin directory")
			entries, _ := os.ReadDir(dir)
			require.Empty(t, entries, "something was created in the plugin directory")
			t.Logf("ROW %-30s | exit %d | %s | nothing created", row.name, code, lastLine(p.Stderr()))
		})
	}
}

// TestHostileLockSymlink: a dangling symlink planted at the store's lock
// file no longer makes the manager create the link's target outside the
// store directory: the commit fails with an error naming the link, the
// manager keeps serving, and once the link is gone commits work again.
func TestHostileLockSymlink(t *testing.T) {
	c, a := hostileNode(t)
	mgr := groupClient(t, a.socket())
	_, err := mgr.CommitGroup(t.Context(), faultSpec("before"), false)
	require.NoError(t, err)
	storeBefore := fileBytes(t, c.storePath())
	before := statsOf(t, a.mgr.Pid())

	target := filepath.Join(c.root, "outside-target")
	lock := filepath.Join(c.storeDir, ".global.config.lock")
	_ = os.Remove(lock)
	require.NoError(t, os.Symlink(target, lock))

	_, err = mgr.CommitGroup(t.Context(), faultSpec("through-link"), false)
	require.ErrorContains(t, err, "is a symbolic link; refusing to follow it")
	_, statErr := os.Lstat(target)
	require.ErrorIs(t, statErr, os.ErrNotExist, "the link's target was created outside the store")
	require.Equal(t, storeBefore, fileBytes(t, c.storePath()))
	require.False(t, a.mgr.exited())
	groups, _ := strictInspect(t, a.socket())
	after := statsOf(t, a.mgr.Pid())
	t.Logf("ROW dangling lock symlink | answer %q | alive | store unchanged (%d groups) | target not created | %s -> %s",
		err.Error(), groups, before, after)

	require.NoError(t, os.Remove(lock))
	_, err = mgr.CommitGroup(t.Context(), faultSpec("after"), false)
	require.NoError(t, err, "commits work again once the link is gone")
	require.Equal(t, 0, a.mgr.Stop())
}
