package plugin

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/require"
)

// staleSocket leaves a socket file at path on which nothing accepts, as kill -9 does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	require.NotZero(t, fi.Mode()&os.ModeSocket)
}

func inspectOK(t *testing.T, path string) {
	t.Helper()
	c := NewClient(path, ClientOptions{})
	defer c.Close()
	_, err := c.InspectGroups(context.Background())
	require.NoError(t, err)
}

func TestServeReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	staleSocket(t, path)
	var mu sync.Mutex
	var logged []string
	log := funcr.New(func(_, args string) { mu.Lock(); logged = append(logged, args); mu.Unlock() }, funcr.Options{})

	s, err := Serve(path, newFakeGroup(), serverOpts(func(o *ServerOptions) { o.Log = log }))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Stop(stopCtx(t))) }()
	inspectOK(t, path)
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, strings.Join(logged, "\n"), `"msg"="replaced stale socket" "path"="`+path+`"`)
}

func TestListenRefusesLiveSocket(t *testing.T) {
	s := serveFake(t, newFakeGroup(), DefaultServerOptions())
	before, err := os.Lstat(s.Path())
	require.NoError(t, err)

	_, err = Serve(s.Path(), newFakeGroup(), DefaultServerOptions())
	require.ErrorIs(t, err, ErrSocketInUse)
	require.ErrorContains(t, err, s.Path())
	_, err = Listen(s.Path())
	require.ErrorIs(t, err, ErrSocketInUse)

	after, err := os.Lstat(s.Path())
	require.NoError(t, err)
	require.True(t, os.SameFile(before, after), "the live socket must be left alone")
	inspectOK(t, s.Path())
}

func TestListenRefusesOtherFiles(t *testing.T) {
	cases := []struct {
		name   string
		make   func(t *testing.T, path string)
		verify func(t *testing.T, path string)
		want   string
	}{
		{"directory", func(t *testing.T, p string) {
			require.NoError(t, os.Mkdir(p, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(p, "keep"), []byte("x"), 0o644))
		}, func(t *testing.T, p string) {
			require.FileExists(t, filepath.Join(p, "keep"))
		}, "is not a socket (a directory)"},
		{"regular file", func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, []byte("precious"), 0o644))
		}, func(t *testing.T, p string) {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, "precious", string(b))
		}, "is not a socket (a regular file)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(sockDir(t), "group")
			c.make(t, path)
			_, err := Listen(path)
			require.ErrorContains(t, err, path)
			require.ErrorContains(t, err, c.want)
			_, err = Serve(path, newFakeGroup(), DefaultServerOptions())
			require.ErrorContains(t, err, c.want)
			c.verify(t, path)
		})
	}
}

func TestListenModes(t *testing.T) {
	old := syscall.Umask(0) // the most permissive umask: modes must not depend on it
	defer syscall.Umask(old)
	path := filepath.Join(sockDir(t), "a", "b", "group")
	ln, err := Listen(path)
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		fi, err = os.Stat(dir)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), dir)
	}
}

func TestListenerCloseRemovesSocket(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	ln, err := Listen(path)
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	require.NoFileExists(t, path)
	require.NoError(t, ln.Close(), "Close twice")
}

func TestStopRemovesSocketAndIsIdempotent(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	s, err := Serve(path, newFakeGroup(), DefaultServerOptions())
	require.NoError(t, err)
	require.Equal(t, path, s.Path())
	inspectOK(t, path)
	require.NoError(t, s.Stop(stopCtx(t)))
	require.NoFileExists(t, path)
	require.NoError(t, s.Stop(stopCtx(t)))

	_, err = NewClient(path, ClientOptions{}).InspectGroups(context.Background())
	require.ErrorIs(t, err, ErrUnreachable)
}

// TestStopLeavesSuccessorSocket: a server whose socket was replaced by a
// newer server must not remove the newer one when it stops.
func TestStopLeavesSuccessorSocket(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	old, err := Serve(path, newFakeGroup(), DefaultServerOptions())
	require.NoError(t, err)
	require.NoError(t, os.Remove(path))
	s2, err := Serve(path, newFakeGroup(), DefaultServerOptions())
	require.NoError(t, err)
	defer func() { require.NoError(t, s2.Stop(stopCtx(t))) }()

	require.NoError(t, old.Stop(stopCtx(t)))
	require.FileExists(t, path)
	inspectOK(t, path)
}

func TestStopDrainsInFlightCalls(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	f := newFakeGroup()
	f.hook = func(context.Context, string) { close(started); <-release }
	path := filepath.Join(sockDir(t), "group")
	s, err := Serve(path, f, DefaultServerOptions())
	require.NoError(t, err)

	c := NewClient(path, ClientOptions{})
	c.hsDone = true // skip the handshake: the hook is for the one Group call
	callErr := make(chan error, 1)
	go func() { _, err := c.InspectGroups(context.Background()); callErr <- err }()
	<-started
	stopErr := make(chan error, 1)
	go func() { stopErr <- s.Stop(context.Background()) }()
	require.Eventually(t, func() bool { _, err := os.Lstat(path); return os.IsNotExist(err) },
		5*time.Second, 10*time.Millisecond, "stop accepting at once")
	close(release)
	require.NoError(t, <-callErr, "the in-flight call completes")
	require.NoError(t, <-stopErr)
}

func TestStopDeadlineCancelsHungCalls(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	f := newFakeGroup()
	f.hook = func(ctx context.Context, _ string) { close(started); <-ctx.Done(); close(cancelled) }
	s, err := Serve(filepath.Join(sockDir(t), "group"), f, DefaultServerOptions())
	require.NoError(t, err)
	c := NewClient(s.Path(), ClientOptions{})
	c.hsDone = true
	go func() { _, _ = c.InspectGroups(context.Background()) }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = s.Stop(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	<-cancelled
	require.ErrorIs(t, s.Stop(context.Background()), context.DeadlineExceeded, "later calls return the first result")
}
