package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// specFile writes faultSpec(id) as a spec file for the CLI.
func (c *osCluster) specFile(id string) string {
	c.t.Helper()
	data, err := json.Marshal(faultSpec(id))
	require.NoError(c.t, err)
	return c.writeSpec(id, string(data))
}

// mountTmpfs mounts a small tmpfs on dir (unmounted when the test ends) and
// reports whether it could. It needs CAP_SYS_ADMIN.
func mountTmpfs(t *testing.T, dir string) bool {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Logf("cannot mount a tmpfs (%v: %s): the read-only store case is skipped", err, strings.TrimSpace(string(out)))
		return false
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return true
}

// remount switches the tmpfs on dir between "ro" and "rw".
func remount(t *testing.T, dir, mode string) {
	t.Helper()
	out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput()
	require.NoError(t, err, "remount %s %s: %s", dir, mode, out)
}

// TestFaultStore breaks the store of a serving leader in four ways. Each
// time a commit fails with an error naming global.config and why, ls fails
// the same way when the file cannot be read (and still answers when it can),
// nothing in the store dir changes, the manager keeps serving what does not
// need the store (describe, Plugin.Implements) and frees nothing on a
// guess; once the fault is repaired, commits and ls work again.
//
// "Read-only" cannot be chmod 0500: the tests run as root, which ignores
// permission bits. The store dir is instead a tmpfs that is remounted
// read-only, which fails writes with EROFS for root too. That needs
// CAP_SYS_ADMIN; without it that case is skipped and the other three run.
func TestFaultStore(t *testing.T) {
	c := newOSCluster(t, nameA)
	canMount := mountTmpfs(t, c.storeDir)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	ctx := t.Context()
	mgr := groupClient(t, a.socket())
	_, err := mgr.CommitGroup(ctx, faultSpec("cattle"), false)
	require.NoError(t, err)
	good := fileBytes(t, c.storePath())
	path := c.storePath()

	cases := []struct {
		name    string
		mount   bool               // needs the tmpfs
		breakIt func(t *testing.T) // applies the fault
		repair  func(t *testing.T) // undoes it
		why     string             // in the commit error (and ls error)
		lsWorks bool               // the file is still readable
	}{
		{name: "truncated", why: "cannot be decoded",
			breakIt: func(t *testing.T) { writeFileAtomic(t, path, good[:len(good)/2]) },
			repair:  func(t *testing.T) { writeFileAtomic(t, path, good) }},
		{name: "garbage", why: "cannot be decoded",
			breakIt: func(t *testing.T) { writeFileAtomic(t, path, []byte("\x00\x01 this is not {json")) },
			repair:  func(t *testing.T) { writeFileAtomic(t, path, good) }},
		{name: "replaced by a directory", why: "is a directory",
			breakIt: func(t *testing.T) {
				require.NoError(t, os.Remove(path))
				require.NoError(t, os.Mkdir(path, 0o700))
			},
			repair: func(t *testing.T) {
				require.NoError(t, os.Remove(path))
				writeFileAtomic(t, path, good)
			}},
		{name: "read-only file system", why: "read-only file system", mount: true, lsWorks: true,
			breakIt: func(t *testing.T) { remount(t, c.storeDir, "ro") },
			repair:  func(t *testing.T) { remount(t, c.storeDir, "rw") }},
	}
	committed := []string{"cattle"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mount && !canMount {
				t.Skip("needs a tmpfs mount (CAP_SYS_ADMIN)")
			}
			id := "pets-" + strings.ReplaceAll(tc.name, " ", "-")
			spec := c.specFile(id)
			tc.breakIt(t)
			before := dirDigest(t, c.storeDir)

			out, errOut, exit := a.cli("commit", spec)
			require.Equal(t, 1, exit, "commit on a broken store: stdout %s", out)
			require.Contains(t, errOut, path, "the commit error names the file")
			require.Contains(t, errOut, tc.why)
			t.Logf("commit: %s", strings.TrimSpace(errOut))
			out, errOut, exit = a.cli("ls")
			if tc.lsWorks {
				require.Equal(t, 0, exit, errOut)
				require.Equal(t, "ID\n"+strings.Join(sorted(committed), "\n")+"\n", out)
			} else {
				require.Equal(t, 1, exit, "ls on an unreadable store: stdout %s", out)
				require.Contains(t, errOut, path, "the ls error names the file")
				require.Contains(t, errOut, tc.why)
				t.Logf("ls: %s", strings.TrimSpace(errOut))
			}
			require.Equal(t, before, dirDigest(t, c.storeDir), "the store dir changed")

			// Still serving what does not need the store.
			apis, err := mgr.Implements(ctx)
			require.NoError(t, err)
			require.Contains(t, apis, plugin.GroupInterface)
			desc, err := mgr.DescribeGroup(ctx, "cattle")
			require.NoError(t, err)
			require.Len(t, desc.Instances, 1)
			require.True(t, a.simRuns(ctx, committed...), "a broken store must not free running groups")
			require.False(t, a.mgr.exited())

			tc.repair(t)
			_, err = mgr.CommitGroup(ctx, faultSpec(id), false)
			require.NoError(t, err, "commit after the repair")
			committed = append(committed, id)
			out, errOut, exit = a.cli("ls", "-q")
			require.Equal(t, 0, exit, errOut)
			require.ElementsMatch(t, committed, strings.Fields(out))
			require.True(t, a.simRuns(ctx, committed...))
			good = fileBytes(t, path)
		})
	}
	require.Equal(t, 0, a.mgr.Stop())
}

// sorted returns a sorted copy of ids.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
