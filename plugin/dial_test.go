package plugin

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fullBacklog binds a unix socket at path with listen backlog 0 and fills
// the backlog, so that a further connect fails with EAGAIN. It returns the
// listening fd as a net.Listener that nobody accepts on yet.
func fullBacklog(t *testing.T, path string) net.Listener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}))
	require.NoError(t, syscall.Listen(fd, 0))
	f := os.NewFile(uintptr(fd), path)
	ln, err := net.FileListener(f)
	require.NoError(t, err)
	_ = f.Close()
	t.Cleanup(func() { _ = ln.Close() })
	var filled []net.Conn
	for {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err != nil {
			require.ErrorIs(t, err, syscall.EAGAIN, "a full backlog refuses with EAGAIN")
			break
		}
		filled = append(filled, c)
		require.Less(t, len(filled), 10, "the backlog never filled")
	}
	t.Cleanup(func() {
		for _, c := range filled {
			_ = c.Close()
		}
	})
	return ln
}

func TestClientRetriesFullBacklog(t *testing.T) {
	path := filepath.Join(sockDir(t), "busy")
	ln := fullBacklog(t, path)
	c := NewClient(path, ClientOptions{Timeout: 5 * time.Second})
	defer c.Close()
	errc := make(chan error, 1)
	go func() { _, err := c.Implements(context.Background()); errc <- err }()
	select {
	case err := <-errc:
		t.Fatalf("the call must wait for the backlog to drain, got %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	srv := &http.Server{Handler: NewHandler(newFakeGroup(), DefaultServerOptions())}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	require.NoError(t, <-errc)
}

func TestClientFullBacklogTimesOut(t *testing.T) {
	path := filepath.Join(sockDir(t), "busy")
	fullBacklog(t, path)
	c := NewClient(path, ClientOptions{Timeout: 300 * time.Millisecond})
	defer c.Close()
	_, err := c.Implements(context.Background())
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, ErrUnreachable)
	require.ErrorContains(t, err, "timed out after 300ms")
	require.NotContains(t, err.Error(), "unreachable")
}

func TestClientStaleSocketIsUnreachableAtOnce(t *testing.T) {
	path := filepath.Join(sockDir(t), "stale")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, ln.Close()) // the socket file stays, nothing listens
	c := NewClient(path, ClientOptions{Timeout: 10 * time.Second})
	start := time.Now()
	_, err = c.Implements(context.Background())
	took := time.Since(start)
	require.ErrorIs(t, err, ErrUnreachable)
	require.NotErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.ErrorContains(t, err, "unreachable")
	require.Less(t, took, 5*time.Second, "a dead plugin is reported well before the deadline (took %s)", took)
}

func TestClientTimeoutText(t *testing.T) {
	path := hangingServer(t)
	c := NewClient(path, ClientOptions{Timeout: 200 * time.Millisecond})
	defer c.Close()
	_, err := c.CommitGroup(context.Background(), Spec{ID: "cattle"}, false)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "plugin at "+path+" timed out after 200ms")
	require.NotContains(t, err.Error(), "unreachable")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = c.Call(ctx, "Group.InspectGroups", nil, nil)
	require.ErrorIs(t, err, ErrTimeout)
	// The caller's shorter deadline is the one reported: what was left of its
	// 100ms when the call began (a loaded machine spends some before).
	m := regexp.MustCompile(`timed out after (\d+)ms`).FindStringSubmatch(err.Error())
	require.Len(t, m, 2, err.Error())
	after, _ := strconv.Atoi(m[1])
	require.InDelta(t, 90, after, 10, err.Error())
}
