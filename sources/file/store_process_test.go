package file_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// Environment of the helper process (this test binary re-executed).
const (
	helperEnv       = "SOURCES_TEST_HELPER"
	helperDirEnv    = "SOURCES_TEST_DIR"
	helperPrefixEnv = "SOURCES_TEST_PREFIX"
	helperCountEnv  = "SOURCES_TEST_COUNT"
)

// addGroups adds n groups <prefix>0..n-1 with one Update each. An Update
// that exhausts its attempts is tried again: the point here is that no
// completed update is lost, not how many attempts one takes.
func addGroups(ctx context.Context, s sources.Store, prefix string, n int) error {
	for i := range n {
		id := plugin.ID(prefix + strconv.Itoa(i))
		var err error
		for range 20 {
			_, _, err = sources.Update(ctx, s, func(c *sources.Config) error {
				c.Groups[id] = sourcestest.SampleEntry(id)
				return nil
			})
			if !errors.Is(err, sources.ErrConflict) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("add %s: %w", id, err)
		}
	}
	return nil
}

func requireGroups(t *testing.T, s sources.Store, prefixes []string, n int) {
	t.Helper()
	cfg, _, err := s.Load(t.Context())
	require.NoError(t, err)
	want := sourcestest.SampleConfig()
	for _, p := range prefixes {
		for i := range n {
			id := plugin.ID(p + strconv.Itoa(i))
			want.Groups[id] = sourcestest.SampleEntry(id)
		}
	}
	sourcestest.RequireEqualConfig(t, want, cfg)
}

func TestFileStore_TwoInstancesOnOneDirLoseNoUpdate(t *testing.T) {
	dir := t.TempDir()
	stores := []*file.Store{newFileStore(t, dir), newFileStore(t, dir)}
	const perWriter = 10
	prefixes := []string{"a", "b", "c", "d"}
	var wg sync.WaitGroup
	errs := make([]error, len(prefixes))
	for i, p := range prefixes {
		wg.Go(func() { errs[i] = addGroups(t.Context(), stores[i%2], p, perWriter) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	requireGroups(t, stores[0], prefixes, perWriter)
}

func TestFileStore_TwoProcessesOnOneDirLoseNoUpdate(t *testing.T) {
	dir := t.TempDir()
	const perWriter = 25
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileStoreHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(),
		helperEnv+"=1", helperDirEnv+"="+dir, helperPrefixEnv+"=child", helperCountEnv+"="+strconv.Itoa(perWriter))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())

	// Wait until the child is ready, then start both writers together.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	_, err = stdin.Write([]byte("go\n"))
	require.NoError(t, err)

	s := newFileStore(t, dir)
	require.NoError(t, addGroups(t.Context(), s, "parent", perWriter))
	require.NoError(t, cmd.Wait(), "helper process failed")
	requireGroups(t, s, []string{"parent", "child"}, perWriter)
}

// TestFileStoreHelperProcess is the second writer of the two-process test.
// It does nothing unless started by that test.
func TestFileStoreHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestFileStore_TwoProcessesOnOneDirLoseNoUpdate")
	}
	n, err := strconv.Atoi(os.Getenv(helperCountEnv))
	require.NoError(t, err)
	s := newFileStore(t, os.Getenv(helperDirEnv))
	fmt.Println("ready")
	_, err = bufio.NewReader(os.Stdin).ReadString('\n')
	require.NoError(t, err)
	require.NoError(t, addGroups(t.Context(), s, os.Getenv(helperPrefixEnv), n))
}

// holdLock takes the store's write lock as another process would and
// returns the func that releases it.
func holdLock(t *testing.T, path string) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Clean(path), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	var once sync.Once
	release := func() { once.Do(func() { _ = f.Close() }) }
	t.Cleanup(release)
	return release
}
