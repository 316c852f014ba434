package labscript

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeScript writes a lab script that answers its verbs like the real ones.
func fakeScript(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-lab.sh")
	require.NoError(t, os.WriteFile(p, []byte(`#!/bin/sh
case "$1" in
  host) echo "unix://$LAB/n$2.sock" ;;
  fail) echo "partial"; echo "fake-lab: n$2 does not answer" >&2; exit 1 ;;
  slow) exec sleep 5 ;;
  status) echo "all well in $LAB" ;;
esac
`), 0o755))
	return p
}

func TestRunAnswersStdoutAndExplainsFailures(t *testing.T) {
	s := Script{Path: fakeScript(t), Env: []string{"LAB=/lab"}}
	out, err := s.Run(context.Background(), 5*time.Second, "host", "2")
	require.NoError(t, err)
	require.Equal(t, "unix:///lab/n2.sock\n", out)

	out, err = s.Run(context.Background(), 5*time.Second, "fail", "3")
	require.Equal(t, "partial\n", out)
	require.ErrorContains(t, err, "fake-lab.sh fail 3")
	require.ErrorContains(t, err, "n3 does not answer")

	start := time.Now()
	_, err = s.Run(context.Background(), 100*time.Millisecond, "slow")
	require.Error(t, err)
	require.Less(t, time.Since(start), 4*time.Second, "the deadline was not applied")
	require.Equal(t, "all well in /lab\n", s.Status(5*time.Second))
}

func TestFindWalksUpToHack(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "hack"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "hack", "x-lab.sh"), nil, 0o755))
	deep := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	t.Chdir(deep)
	p, err := Find("x-lab.sh", "X_LAB_UNSET_FOR_TEST")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "hack", "x-lab.sh"), p)

	t.Setenv("X_LAB", "/elsewhere/x-lab.sh")
	p, err = Find("x-lab.sh", "X_LAB")
	require.NoError(t, err)
	require.Equal(t, "/elsewhere/x-lab.sh", p)

	_, err = Find("nosuch-lab.sh", "X_LAB_UNSET_FOR_TEST")
	require.ErrorContains(t, err, "X_LAB_UNSET_FOR_TEST")
}

type fakeLab struct{ closed *int }

func (f fakeLab) Status() string { return "fine" }
func (f fakeLab) Close() error   { *f.closed++; return nil }

func TestStartClosesAtCleanupEvenWhenHalfStarted(t *testing.T) {
	closed := 0
	t.Run("started", func(t *testing.T) {
		l := Start(t, "fake lab", func() (fakeLab, bool, error) { return fakeLab{&closed}, true, nil })
		require.Equal(t, "fine", l.Status())
	})
	require.Equal(t, 1, closed)
}

func TestDownerRunsDownOnce(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "count-lab.sh")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n[ \"$1\" = down ] && echo x >> \"$LAB/downs\"\n"), 0o755))
	s := Script{Path: p, Env: []string{"LAB=" + dir}}
	var d Downer
	for range 3 {
		require.NoError(t, d.Down(s, 5*time.Second))
	}
	data, err := os.ReadFile(filepath.Join(dir, "downs"))
	require.NoError(t, err)
	require.Equal(t, "x\n", string(data))
}

// A lab whose test process dies without its cleanup is taken down.
func TestReapAfterDownsTheLabOfADeadProcess(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	require.NoError(t, os.Mkdir(lab, 0o755))
	p := filepath.Join(dir, "reap-lab.sh")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n[ \"$1\" = down ] && rm -rf \"$LAB\" && echo down > \""+dir+"/downed\"\n"), 0o755))
	victim := exec.Command("sleep", "60")
	require.NoError(t, victim.Start())
	t.Cleanup(func() { _ = victim.Process.Kill() })
	s := Script{Path: p, Env: []string{"LAB=" + lab}}
	require.NoError(t, s.ReapAfter(victim.Process.Pid))

	time.Sleep(1500 * time.Millisecond) // the watcher has polled at least once
	_, err := os.Stat(filepath.Join(dir, "downed"))
	require.ErrorIs(t, err, os.ErrNotExist, "the lab went down while its process lived")

	require.NoError(t, victim.Process.Kill())
	_ = victim.Wait()
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, "downed"))
		return err == nil
	}, 20*time.Second, 100*time.Millisecond, "the lab of a dead process was not taken down")
	require.NoDirExists(t, lab)

	require.ErrorContains(t, Script{Path: p}.ReapAfter(1), "no LAB=")
}
