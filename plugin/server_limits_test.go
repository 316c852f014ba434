package plugin

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestInspectGroupsStreamedExactly: the streamed InspectGroups answer is
// byte for byte what encodeResponse renders, with a Content-Length that
// matches the body.
func TestInspectGroupsStreamedExactly(t *testing.T) {
	specs := []Spec{
		{ID: "a<&>", Properties: json.RawMessage(` {"x" : ["<\u2028>", 1.5e3, {}, []] } `)},
		{ID: "b", Properties: nil},
		{ID: "c\u2029é", Properties: json.RawMessage(`"\u003c\\"`)},
		{ID: "d", Properties: nested(64, `{"k":"&"}`)},
	}
	for _, n := range []int{1, len(specs)} {
		for _, id := range []string{`7`, `"x<y"`, `{"a": [1, 2]}`} {
			t.Run(strconv.Itoa(n)+" "+id, func(t *testing.T) {
				f := newFakeGroup()
				f.inspect = specs[:n]
				s := serveFake(t, f, DefaultServerOptions())
				body := `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":` + id + `}`
				resp, got := rawExchange(t, s.Path(), rawPost(body))
				want := encodeResponse(json.RawMessage(id), InspectGroupsResponse{Groups: specs[:n]}, nil)
				require.Equal(t, string(want), string(got))
				require.Equal(t, strconv.Itoa(len(got)), resp.Header.Get("Content-Length"))
				require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			})
		}
	}
}

// TestInspectGroupsInvalidPropertiesNotStreamed: a Group answering raw
// Properties that are not JSON gets the encoder's -32000, as before.
func TestInspectGroupsInvalidPropertiesNotStreamed(t *testing.T) {
	f := newFakeGroup()
	f.inspect = []Spec{{ID: "ok"}, {ID: "bad", Properties: json.RawMessage(`{"a":`)}}
	s := serveFake(t, f, DefaultServerOptions())
	_, got := rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`))
	require.Contains(t, string(got), `"code":-32000,"message":"rpc: cannot encode result`)
}

// waitClosed reads from conn until the server closes it or 10s pass.
func waitClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := io.Copy(io.Discard, conn)
	require.NoError(t, err, "the server must close the connection (EOF), not leave it to our deadline")
}

func TestServerDropsSlowRequests(t *testing.T) {
	opts := serverOpts(func(o *ServerOptions) {
		o.ReadHeaderTimeout, o.BodyReadTimeout = 200*time.Millisecond, 200*time.Millisecond
	})
	for _, tc := range []struct {
		name string
		sent string
	}{
		{"headers never finish", "POST / HTTP/1.1\r\nHost: a\r\n"},
		{"body never finishes", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGroup()
			s := serveFake(t, f, opts)
			conn, err := net.Dial("unix", s.Path())
			require.NoError(t, err)
			defer func() { _ = conn.Close() }()
			_, err = conn.Write([]byte(tc.sent))
			require.NoError(t, err)
			waitClosed(t, conn)
			require.Empty(t, f.Calls())
		})
	}
}

// TestServerBodyDeadlineDoesNotCancelLongCalls: a call that runs longer
// than the body deadline is not cancelled by it.
func TestServerBodyDeadlineDoesNotCancelLongCalls(t *testing.T) {
	f := newFakeGroup()
	f.hook = func(ctx context.Context, _ string) {
		select {
		case <-ctx.Done():
		case <-time.After(600 * time.Millisecond):
		}
	}
	s := serveFake(t, f, serverOpts(func(o *ServerOptions) {
		o.BodyReadTimeout, o.ReadHeaderTimeout = 100*time.Millisecond, 100*time.Millisecond
	}))
	c := NewClient(s.Path(), ClientOptions{Timeout: 5 * time.Second})
	_, err := c.CommitGroup(context.Background(), Spec{ID: "x", Properties: json.RawMessage(`{}`)}, false)
	require.NoError(t, err)
}

// slowConn opens a connection that has sent half a request.
func slowConn(t *testing.T, path string) net.Conn {
	t.Helper()
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.Write([]byte("POST / HTTP/1.1\r\nHost: a\r\n"))
	require.NoError(t, err)
	return conn
}

func TestServerConnectionCapShedsSlowClients(t *testing.T) {
	f := newFakeGroup()
	s := serveFake(t, f, serverOpts(func(o *ServerOptions) { o.MaxConns = 3 }))
	slow := []net.Conn{slowConn(t, s.Path()), slowConn(t, s.Path()), slowConn(t, s.Path())}
	require.Eventually(t, func() bool { return s.conns.size() == 3 }, 10*time.Second, 5*time.Millisecond)

	resp, body := rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, `{"jsonrpc":"2.0","result":{"Groups":null},"id":1}`+"\n", string(body))
	waitClosed(t, slow[0]) // the oldest slow client made room
	require.LessOrEqual(t, s.conns.size(), 3)
}

func TestServerConnectionCapWaitsForBusyCalls(t *testing.T) {
	f := newFakeGroup()
	release := make(chan struct{})
	f.hook = func(ctx context.Context, method string) {
		if method == "CommitGroup" {
			<-release
		}
	}
	s := serveFake(t, f, serverOpts(func(o *ServerOptions) { o.MaxConns = 1 }))
	c := NewClient(s.Path(), ClientOptions{Timeout: 10 * time.Second})
	_, err := c.Implements(context.Background()) // handshake out of the way
	require.NoError(t, err)
	c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.CommitGroup(context.Background(), Spec{ID: "x"}, false)
		done <- err
	}()
	require.Eventually(t, func() bool { return len(f.Calls()) > 0 && f.Calls()[len(f.Calls())-1] == "CommitGroup" },
		10*time.Second, 5*time.Millisecond)

	second := make(chan error, 1)
	go func() {
		_, err := NewClient(s.Path(), ClientOptions{Timeout: 10 * time.Second}).Implements(context.Background())
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("a call must wait while the only connection runs a call, got %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-second)
}

func TestServerOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultServerOptions().Validate())
	require.EqualError(t, ServerOptions{}.Validate(), "MaxBodyBytes must be > 0, got 0\nReadHeaderTimeout must be > 0, got 0s\n"+
		"BodyReadTimeout must be > 0, got 0s\nWriteTimeout must be > 0, got 0s\nIdleTimeout must be > 0, got 0s\nMaxConns must be > 0, got 0")
	for _, change := range []func(o *ServerOptions){
		func(o *ServerOptions) { o.MaxBodyBytes = -1 }, func(o *ServerOptions) { o.ReadHeaderTimeout = -1 },
		func(o *ServerOptions) { o.BodyReadTimeout = -1 }, func(o *ServerOptions) { o.WriteTimeout = -1 },
		func(o *ServerOptions) { o.IdleTimeout = -1 }, func(o *ServerOptions) { o.MaxConns = -1 },
	} {
		o := serverOpts(change)
		require.Error(t, o.Validate(), "%+v", o)
	}
	require.Panics(t, func() { NewHandler(newFakeGroup(), ServerOptions{}) }, "NewHandler refuses options that fail Validate")
}

func TestConnsFor(t *testing.T) {
	for nofile, want := range map[uint64]int{0: 1, 64: 1, 256: 96, 1024: 480, 1 << 20: maxConnsTop} {
		require.Equal(t, want, connsFor(nofile), "nofile %d", nofile)
	}
	require.Greater(t, DefaultMaxConns(), 0)
}

// TestServerDropsClientsThatDoNotRead: a client that asks for a large
// answer and never reads is dropped after WriteTimeout without progress.
func TestServerDropsClientsThatDoNotRead(t *testing.T) {
	f := newFakeGroup()
	big := json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)
	for i := range 8 {
		f.inspect = append(f.inspect, Spec{ID: ID("g" + strconv.Itoa(i)), Properties: big})
	}
	s := serveFake(t, f, serverOpts(func(o *ServerOptions) { o.WriteTimeout = 200 * time.Millisecond }))
	conn, err := net.Dial("unix", s.Path())
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = conn.Write(rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.conns.size() == 0 }, 10*time.Second, 10*time.Millisecond,
		"the server must drop a client that reads nothing")
}
