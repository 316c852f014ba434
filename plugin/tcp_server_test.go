package plugin

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/certgen"
)

// certs makes a CA with certificates "server" and "client" in dir, and a
// second CA ("rogue") with a certificate "intruder".
func certs(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	o := certgen.DefaultOptions()
	o.Dir, o.Names = dir, []string{"server", "client"}
	require.NoError(t, certgen.Write(o))
	o.CAName, o.Names = "rogue", []string{"intruder"}
	require.NoError(t, certgen.Write(o))
	return dir
}

func files(dir, ca, name string) TLSFiles {
	f := TLSFiles{CA: filepath.Join(dir, ca+".pem")}
	if name != "" {
		f.Cert, f.Key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	}
	return f
}

// logLines is a logr sink that keeps its lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: 0})
}

func (l *logLines) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func serveTLS(t *testing.T, g Group, dir string, log logr.Logger) *Server {
	t.Helper()
	conf, err := files(dir, "ca", "server").ServerConfig()
	require.NoError(t, err)
	s, err := ServeTCP(g, TCPOptions{Addr: "127.0.0.1:0", TLS: conf}, serverOpts(func(o *ServerOptions) { o.Log, o.MaxConns = log, 8 }))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

func urlClient(t *testing.T, s *Server, f *TLSFiles, h http.Header) *Client {
	t.Helper()
	var conf *tls.Config
	if f != nil {
		var err error
		conf, err = f.ClientConfig()
		require.NoError(t, err)
	}
	u := &url.URL{Scheme: "tcp", Host: s.Addr().String()}
	c, err := NewURLClient(u, conf, ClientOptions{Timeout: 5 * time.Second, Header: h})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestServeTCPMutualTLS(t *testing.T) {
	dir := certs(t)
	var logs logLines
	g := newFakeGroup()
	s := serveTLS(t, g, dir, logs.logger())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	good := files(dir, "ca", "client")
	_, err := urlClient(t, s, &good, nil).CommitGroup(ctx, Spec{ID: "a", Properties: []byte(`{}`)}, false)
	require.NoError(t, err, "a client with a certificate of the CA is served")

	refused := []struct {
		name string
		f    TLSFiles
	}{
		{"no client certificate", files(dir, "ca", "")},
		{"certificate from another CA", TLSFiles{CA: filepath.Join(dir, "ca.pem"),
			Cert: filepath.Join(dir, "intruder.pem"), Key: filepath.Join(dir, "intruder-key.pem")}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			before := len(g.Calls())
			_, err := urlClient(t, s, &tc.f, nil).CommitGroup(ctx, Spec{ID: "b", Properties: []byte(`{}`)}, false)
			require.ErrorIs(t, err, ErrUnreachable)
			require.Equal(t, before, len(g.Calls()), "nothing reached the Group")
			require.Eventually(t, func() bool { return logs.has("refused connection") }, 5*time.Second, 10*time.Millisecond)
		})
	}
	t.Run("plaintext to the TLS port", func(t *testing.T) {
		before := len(g.Calls())
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Post("http://"+s.Addr().String()+"/", "application/json",
			strings.NewReader(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
		require.Equal(t, before, len(g.Calls()))
		require.Eventually(t, func() bool { return logs.has("HTTP request to an HTTPS server") }, 5*time.Second, 10*time.Millisecond)
	})
}

func TestServeTCPPlaintextOnlyOnLoopback(t *testing.T) {
	require.NoError(t, TCPOptions{Addr: "127.0.0.1:0"}.Validate())
	require.NoError(t, TCPOptions{Addr: "[::1]:0"}.Validate())
	require.ErrorContains(t, TCPOptions{Addr: "0.0.0.0:0"}.Validate(), "not loopback")
	require.NoError(t, TCPOptions{Addr: "0.0.0.0:0", Insecure: true}.Validate())
	_, err := ServeTCP(newFakeGroup(), TCPOptions{Addr: "10.1.2.3:0"}, DefaultServerOptions())
	require.ErrorContains(t, err, "Addr 10.1.2.3:0 is not loopback: serve it with TLS or set Insecure")
}

func TestServeTCPHeaders(t *testing.T) {
	dir := certs(t)
	var logs logLines
	g := newFakeGroup()
	var mu sync.Mutex
	var seenBy string
	var seenDeadline time.Duration
	g.hook = func(ctx context.Context, _ string) {
		mu.Lock()
		defer mu.Unlock()
		seenBy, _ = ForwardedBy(ctx)
		if dl, ok := ctx.Deadline(); ok {
			seenDeadline = time.Until(dl)
		}
	}
	s := serveTLS(t, g, dir, logs.logger())
	good := files(dir, "ca", "client")

	t.Run("forwarded once: marked, with the caller's deadline", func(t *testing.T) {
		c := urlClient(t, s, &good, http.Header{HeaderForwarded: {"https://127.0.0.1:1"}})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := c.CommitGroup(ctx, Spec{ID: "a", Properties: []byte(`{}`)}, false)
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, "https://127.0.0.1:1", seenBy)
		require.Greater(t, seenDeadline, time.Duration(0))
		require.LessOrEqual(t, seenDeadline, 3*time.Second)
	})
	for name, h := range map[string]http.Header{
		"marker twice":  {HeaderForwarded: {"https://127.0.0.1:1", "https://127.0.0.1:2"}},
		"marker a list": {HeaderForwarded: {"https://127.0.0.1:1, https://127.0.0.1:2"}},
	} {
		t.Run("refused: "+name, func(t *testing.T) {
			before := len(g.Calls())
			c := urlClient(t, s, &good, h)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := c.Call(ctx, "Group.InspectGroups", nil, nil)
			var rerr *RPCError
			require.ErrorAs(t, err, &rerr)
			require.Equal(t, CodeInvalidRequest, rerr.Code)
			require.Contains(t, rerr.Message, "forwarded more than once")
			require.Equal(t, before, len(g.Calls()))
			require.True(t, logs.has("refused request"))
		})
	}
}

// notLeader is a DataError as the forwarding layer answers.
type notLeader struct{ loc string }

func (e notLeader) Error() string { return "not-a-leader" }
func (e notLeader) WireData() any { return NotLeaderData{LeaderLocation: e.loc} }

func TestNotLeaderDataOnTheWire(t *testing.T) {
	g := newFakeGroup()
	g.fail["CommitGroup"] = notLeader{loc: "https://127.0.0.1:24801"}
	h := NewHandler(g, DefaultServerOptions())
	body := `{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"x","Properties":{}}},"id":7}`
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "http://a/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	rec.Flush()
	require.JSONEq(t, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"not-a-leader","data":{"LeaderLocation":"https://127.0.0.1:24801"}},"id":7}`,
		rec.Body.String(), "the message stays the original's text; the location rides in data")

	err := decodeResponse("Group.CommitGroup", rec.Body.Bytes(), nil, func(e error) error { return e })
	require.EqualError(t, err, "not-a-leader")
	loc, ok := LeaderLocationOf(err)
	require.True(t, ok)
	require.Equal(t, "https://127.0.0.1:24801", loc)
	_, ok = LeaderLocationOf(errors.New("not-a-leader"))
	require.False(t, ok)
}
