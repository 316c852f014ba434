package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/require"
)

// TestServerRequests covers what the captures do not: each body is sent raw
// over a real socket and the whole answer is compared.
func TestServerRequests(t *testing.T) {
	const ct = "Content-Type: application/json"
	cases := []struct {
		name    string
		body    string
		headers []string
		setup   func(f *fakeGroup)
		want    string // exact body; "" means an empty body
	}{
		{name: "batch array", body: `[{"jsonrpc":"2.0","method":"Plugin.Implements","params":{},"id":1}]`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"batch requests are not supported","data":null},"id":null}`},
		{name: "not an object", body: `42`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"request must be a JSON object","data":null},"id":null}`},
		{name: "empty body", body: ``,
			want: `{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error: empty request body","data":null},"id":null}`},
		{name: "truncated JSON", body: `{"jsonrpc":"2.0","method":`,
			want: `{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error: unexpected end of JSON input","data":null},"id":null}`},
		{name: "unknown service", body: `{"jsonrpc":"2.0","method":"X.Y","params":{},"id":1}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: can't find service \"X.Y\"","data":null},"id":1}`},
		{name: "two dots", body: `{"jsonrpc":"2.0","method":"Group.A.B","id":1}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: service/method request ill-formed: \"Group.A.B\"","data":null},"id":1}`},
		{name: "jsonrpc 1.0 echoed", body: `{"jsonrpc":"1.0","method":"Plugin.Implements","id":"x"}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"jsonrpc must be 2.0","data":{"jsonrpc":"1.0","method":"Plugin.Implements","params":null,"id":"x"}},"id":"x"}`},
		{name: "method not a string", body: `{"jsonrpc":"2.0","method":7,"id":1}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"method must be a string","data":{"jsonrpc":"2.0","method":"","params":null,"id":1}},"id":1}`},
		{name: "params do not fit", body: `{"jsonrpc":"2.0","method":"Group.FreeGroup","params":{"ID":5},"id":1}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"json: cannot unmarshal number into Go struct field IDRequest.ID of type plugin.ID","data":{"ID":5}},"id":1}`},
		{name: "params array of two", body: `{"jsonrpc":"2.0","method":"Group.FreeGroup","params":[{},{}],"id":1}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"params array must hold exactly one element, got 2","data":[{},{}]},"id":1}`},
		{name: "params a string", body: `{"jsonrpc":"2.0","method":"Group.FreeGroup","params":"cattle","id":1}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32600,"message":"params must be an object or a one-element array","data":"cattle"},"id":1}`},
		{name: "params absent", body: `{"jsonrpc":"2.0","method":"Group.InspectGroups","id":1}`,
			want: `{"jsonrpc":"2.0","result":{"Groups":null},"id":1}`},
		{name: "id null answered", body: `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":null}`,
			want: `{"jsonrpc":"2.0","result":{"Groups":null},"id":null}`},
		{name: "big id verbatim", body: `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":123456789012345678901234567890}`,
			want: `{"jsonrpc":"2.0","result":{"Groups":null},"id":123456789012345678901234567890}`},
		{name: "object id", body: `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":{"a":[1,2]}}`,
			want: `{"jsonrpc":"2.0","result":{"Groups":null},"id":{"a":[1,2]}}`},
		{name: "failing notification", body: `{"jsonrpc":"2.0","method":"Group.FreeGroup","params":{"ID":"nosuch"}}`},
		{name: "invalid notification", body: `{"method":"Group.FreeGroup"}`},
		{name: "content type case and spaces", body: `{"jsonrpc":"2.0","method":"Plugin.Implements","params":{},"id":1}`,
			headers: []string{"Content-Type: Application/JSON ; charset=UTF-8"},
			want:    `{"jsonrpc":"2.0","result":{"APIs":[{"Name":"Group","Version":"0.1.0"}]},"id":1}`},
		{name: "unencodable result", body: `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`,
			setup: func(f *fakeGroup) { f.inspect = []Spec{{ID: "bad", Properties: json.RawMessage(`{bad`)}} },
			want:  `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: cannot encode result: json: error calling MarshalJSON for type json.RawMessage: invalid character 'b' looking for beginning of object key string","data":null},"id":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeGroup()
			if c.setup != nil {
				c.setup(f)
			}
			s := serveFake(t, f, DefaultServerOptions())
			headers := c.headers
			if headers == nil {
				headers = []string{ct}
			}
			resp, body := rawExchange(t, s.Path(), rawPost(c.body, headers...))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			if c.want == "" {
				require.Empty(t, string(body))
				return
			}
			require.Equal(t, c.want+"\n", string(body))
		})
	}
}

func TestServerMethodNotPost(t *testing.T) {
	s := serveFake(t, newFakeGroup(), DefaultServerOptions())
	resp, body := rawExchange(t, s.Path(), []byte("PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"))
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "rpc: POST method required, received PUT", string(body))
}

func TestServerOversizedBody(t *testing.T) {
	f := newFakeGroup()
	s := serveFake(t, f, serverOpts(func(o *ServerOptions) { o.MaxBodyBytes = 64 }))
	big := `{"jsonrpc":"2.0","method":"Group.FreeGroup","params":{"ID":"` + strings.Repeat("x", 100) + `"},"id":1}`
	resp, body := rawExchange(t, s.Path(), rawPost(big, "Content-Type: application/json"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, `{"jsonrpc":"2.0","error":{"code":-32600,"message":"request body exceeds 64 bytes","data":null},"id":null}`+"\n", string(body))
	require.Empty(t, f.Calls())

	// The server keeps serving.
	_, body = rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","id":2}`))
	require.Equal(t, `{"jsonrpc":"2.0","result":{"Groups":null},"id":2}`+"\n", string(body))
}

func TestServerDefaultBodyCap(t *testing.T) {
	h := NewHandler(newFakeGroup(), DefaultServerOptions())
	body := `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{"x":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"},"id":1}`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	require.Contains(t, rec.Body.String(), `"message":"request body exceeds 16777216 bytes"`)
}

func TestServerRecoversPanic(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, args)
	}, funcr.Options{})
	f := newFakeGroup()
	f.hook = func(_ context.Context, method string) {
		if method == "DescribeGroup" {
			panic("boom")
		}
	}
	s := serveFake(t, f, serverOpts(func(o *ServerOptions) { o.Log = log }))
	_, body := rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.DescribeGroup","params":{"ID":"a"},"id":1}`))
	require.Equal(t, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: method Group.DescribeGroup panicked: boom","data":null},"id":1}`+"\n", string(body))

	_, body = rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","id":2}`))
	require.Equal(t, `{"jsonrpc":"2.0","result":{"Groups":null},"id":2}`+"\n", string(body))
	mu.Lock()
	defer mu.Unlock()
	require.Condition(t, func() bool {
		for _, l := range logged {
			if strings.Contains(l, "recovered panic in rpc method") && strings.Contains(l, "Group.DescribeGroup") {
				return true
			}
		}
		return false
	}, "panic not logged: %v", logged)
}

// TestServerCancelsContextWhenClientLeaves: the Group method gets the
// request's context, which ends when the caller hangs up.
func TestServerCancelsContextWhenClientLeaves(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan error, 1)
	f := newFakeGroup()
	f.hook = func(ctx context.Context, _ string) {
		close(started)
		select {
		case <-ctx.Done():
			cancelled <- ctx.Err()
		case <-time.After(30 * time.Second):
			cancelled <- errors.New("context never cancelled")
		}
	}
	s := serveFake(t, f, DefaultServerOptions())
	conn, err := net.Dial("unix", s.Path())
	require.NoError(t, err)
	_, err = conn.Write(rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","id":1}`))
	require.NoError(t, err)
	<-started
	require.NoError(t, conn.Close())
	require.ErrorIs(t, <-cancelled, context.Canceled)
}

func TestServeOptionsValidated(t *testing.T) {
	dir := sockDir(t)
	_, err := Serve(dir+"/g", newFakeGroup(), serverOpts(func(o *ServerOptions) { o.MaxBodyBytes = -1 }))
	require.ErrorContains(t, err, "MaxBodyBytes must be > 0, got -1")
	_, err = Serve(dir+"/g", nil, DefaultServerOptions())
	require.Error(t, err)
	require.NoFileExists(t, dir+"/g")
}

// gaveUpGroup's DescribeGroup waits for its context to end and answers its
// error; its FreeGroup answers a deadline error of its own (a call it made
// timed out) while the call's context is live.
type gaveUpGroup struct{ *fakeGroup }

func (g gaveUpGroup) DescribeGroup(ctx context.Context, id ID) (Description, error) {
	<-ctx.Done()
	return Description{}, fmt.Errorf("describe %s: %w", id, ctx.Err())
}

func (g gaveUpGroup) FreeGroup(_ context.Context, id ID) error {
	return fmt.Errorf("free %s: its backend: %w", id, context.DeadlineExceeded)
}

// TestServerMarksGaveUp: a method that stopped on the call's own deadline
// (X-Infrakit-Timeout) is answered with CodeGaveUp, which the client maps
// to ErrGaveUp; a method's own deadline error while the call is live is
// its verdict (CodeApplication).
func TestServerMarksGaveUp(t *testing.T) {
	s := serveFake(t, gaveUpGroup{newFakeGroup()}, DefaultServerOptions())
	_, body := rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.DescribeGroup","params":{"ID":"a"},"id":1}`, HeaderTimeout+": 50"))
	require.Equal(t, `{"jsonrpc":"2.0","error":{"code":-32001,"message":"describe a: context deadline exceeded","data":null},"id":1}`+"\n", string(body))
	_, body = rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Group.FreeGroup","params":{"ID":"a"},"id":2}`, HeaderTimeout+": 5000"))
	require.Equal(t, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"free a: its backend: context deadline exceeded","data":null},"id":2}`+"\n", string(body))

	c := NewClient(s.Path(), ClientOptions{Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.FreeGroup(ctx, "a")
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrGaveUp, "the plugin's own verdict")
	var rpcErr *RPCError
	require.ErrorAs(t, err, &rpcErr)
	require.ErrorIs(t, fmt.Errorf("commit: %w", &RPCError{Code: CodeGaveUp, Message: "x"}), ErrGaveUp)
}
