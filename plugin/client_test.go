package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// recorder wraps a handler and records what reaches the server.
type recorder struct {
	next  http.Handler
	conns atomic.Int32 // connections accepted

	mu      sync.Mutex
	methods []string
	bodies  []string
	headers []http.Header
	paths   []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var m struct{ Method string }
	_ = json.Unmarshal(body, &m)
	r.mu.Lock()
	r.methods = append(r.methods, m.Method)
	r.bodies = append(r.bodies, string(body))
	r.headers = append(r.headers, req.Header.Clone())
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.next.ServeHTTP(w, req)
}

func (r *recorder) count(method string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.methods {
		if m == method {
			n++
		}
	}
	return n
}

// serveRecorded serves next on path through a recorder until cleanup.
func serveRecorded(t *testing.T, path string, next http.Handler) *recorder {
	t.Helper()
	rec := &recorder{next: next}
	ln, err := Listen(path)
	require.NoError(t, err)
	srv := &http.Server{Handler: rec, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rec.conns.Add(1)
		}
	}}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return rec
}

// implementsOnly answers Plugin.Implements with apis and nothing else.
func implementsOnly(apis string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var r struct{ ID json.RawMessage }
		_ = json.NewDecoder(req.Body).Decode(&r)
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","result":{"APIs":`+apis+`},"id":`+string(r.ID)+"}\n")
	})
}

func TestClientHandshakeCachedAndKeepAlive(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	f := newFakeGroup()
	rec := serveRecorded(t, path, NewHandler(f, DefaultServerOptions()))
	c := NewClient(path, ClientOptions{})
	defer c.Close()
	ctx := context.Background()

	details, err := c.CommitGroup(ctx, Spec{ID: "cattle", Properties: cattleProps}, false)
	require.NoError(t, err)
	require.Equal(t, "Managing 2 instances", details)
	specs, err := c.InspectGroups(ctx)
	require.NoError(t, err)
	require.Len(t, specs, 1)
	d, err := c.DescribeGroup(ctx, "cattle")
	require.NoError(t, err)
	require.True(t, d.Converged)
	require.NoError(t, c.FreeGroup(ctx, "cattle"))
	seedCattle(f)
	require.NoError(t, c.DestroyGroup(ctx, "cattle"))

	require.Equal(t, 1, rec.count("Plugin.Implements"))
	require.Equal(t, []string{"Plugin.Implements", "Group.CommitGroup", "Group.InspectGroups",
		"Group.DescribeGroup", "Group.FreeGroup", "Group.DestroyGroup"}, rec.methods)
	require.EqualValues(t, 1, rec.conns.Load(), "calls must reuse one keep-alive connection")

	// What the client puts on the wire: the original's request shape.
	require.Regexp(t, regexp.MustCompile(`^\{"jsonrpc":"2\.0","method":"Plugin\.Implements","params":\{\},"id":\d+\}$`), rec.bodies[0])
	require.Regexp(t, regexp.MustCompile(`^\{"jsonrpc":"2\.0","method":"Group\.FreeGroup","params":\{"ID":"cattle"\},"id":\d+\}$`), rec.bodies[4])
	require.Equal(t, "application/json", rec.headers[0].Get("Content-Type"))
	require.Equal(t, "/", rec.paths[0])
}

func TestClientConcurrentFirstCallsShareOneHandshake(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	rec := serveRecorded(t, path, NewHandler(newFakeGroup(), DefaultServerOptions()))
	c := NewClient(path, ClientOptions{})
	defer c.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := c.InspectGroups(context.Background())
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, 1, rec.count("Plugin.Implements"))
	require.Equal(t, 8, rec.count("Group.InspectGroups"))
}

func TestClientHandshakeMismatch(t *testing.T) {
	cases := []struct {
		name, apis, want string
	}{
		{"other interface", `[{"Name":"Instance","Version":"0.1.0"}]`, "Plugin does not support interface {Group 0.1.0}"},
		{"no interfaces", `null`, "Plugin does not support interface {Group 0.1.0}"},
		{"other version", `[{"Name":"Flavor","Version":"0.1.0"},{"Name":"Group","Version":"0.2.0"}]`,
			"Plugin supports Group interface version 0.2.0, client requires 0.1.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(sockDir(t), "p")
			rec := serveRecorded(t, path, implementsOnly(tc.apis))
			c := NewClient(path, ClientOptions{})
			defer c.Close()
			for range 2 {
				_, err := c.InspectGroups(context.Background())
				require.ErrorIs(t, err, ErrHandshake)
				require.EqualError(t, err, tc.want)
				require.NotErrorIs(t, err, ErrUnreachable)
			}
			require.Equal(t, []string{"Plugin.Implements"}, rec.methods, "mismatch is cached, no Group call is made")
		})
	}
}

func TestClientHandshakeRPCErrorNotCached(t *testing.T) {
	path := filepath.Join(sockDir(t), "p")
	rec := serveRecorded(t, path, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: can't find service \"Plugin.Implements\"","data":null},"id":1}`+"\n")
	}))
	c := NewClient(path, ClientOptions{})
	for range 2 {
		err := c.FreeGroup(context.Background(), "x")
		require.ErrorIs(t, err, ErrHandshake)
		var re *RPCError
		require.ErrorAs(t, err, &re)
	}
	require.Equal(t, 2, rec.count("Plugin.Implements"))
}

func TestClientTransportErrorNotCached(t *testing.T) {
	path := filepath.Join(sockDir(t), "group")
	c := NewClient(path, ClientOptions{})
	defer c.Close()
	_, err := c.InspectGroups(context.Background())
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.Equal(t, path, te.Path)
	require.ErrorIs(t, err, ErrUnreachable)
	require.NotErrorIs(t, err, ErrHandshake)

	rec := serveRecorded(t, path, NewHandler(newFakeGroup(), DefaultServerOptions()))
	_, err = c.InspectGroups(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, rec.count("Plugin.Implements"))
}

func TestClientRPCErrorIsNotTransportError(t *testing.T) {
	s := serveFake(t, newFakeGroup(), DefaultServerOptions())
	c := NewClient(s.Path(), ClientOptions{})
	defer c.Close()
	err := c.FreeGroup(context.Background(), "nosuch")
	var re *RPCError
	require.ErrorAs(t, err, &re)
	require.Equal(t, CodeApplication, re.Code)
	require.EqualError(t, err, "Group 'nosuch' is not being watched")
	require.NotErrorIs(t, err, ErrUnreachable)
	var te *TransportError
	require.False(t, errors.As(err, &te))

	err = c.Call(context.Background(), "Group.NoSuch", nil, nil)
	require.EqualError(t, err, `rpc: can't find method "Group.NoSuch"`)

	err = c.Call(context.Background(), "Group.FreeGroup", []string{"x"}, nil)
	require.ErrorContains(t, err, "params must encode as a JSON object")
	require.NotErrorIs(t, err, ErrUnreachable)

	apis, err := c.Implements(context.Background())
	require.NoError(t, err)
	require.Equal(t, []InterfaceSpec{GroupInterface}, apis)
}

// hangingServer accepts connections and never answers.
func hangingServer(t *testing.T) string {
	t.Helper()
	path := filepath.Join(sockDir(t), "hang")
	ln, err := Listen(path)
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return path
}

func TestClientTimeout(t *testing.T) {
	path := hangingServer(t)
	c := NewClient(path, ClientOptions{Timeout: 200 * time.Millisecond})
	defer c.Close()
	_, err := c.CommitGroup(context.Background(), Spec{ID: "cattle"}, false)
	require.ErrorIs(t, err, ErrUnreachable)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	err = c.Call(context.Background(), "Group.InspectGroups", nil, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClientCallerCancel(t *testing.T) {
	path := hangingServer(t)
	c := NewClient(path, ClientOptions{Timeout: time.Minute})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.FreeGroup(ctx, "x") }()
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrUnreachable)
}

func TestClientEmptyAnswerIsTransportError(t *testing.T) {
	path := filepath.Join(sockDir(t), "p")
	serveRecorded(t, path, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	err := NewClient(path, ClientOptions{}).Call(context.Background(), "Group.InspectGroups", nil, nil)
	require.ErrorIs(t, err, ErrUnreachable)
	require.ErrorContains(t, err, "empty response body")
}
