package ops

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"
)

func listen(t *testing.T, opts ServerOptions) *Server {
	t.Helper()
	s, err := Listen(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s
}

func TestServer_Probes(t *testing.T) {
	var storeErr atomic.Pointer[error]
	checks := &Checks{}
	checks.AddLive("reconcile loop", func(context.Context) error { return nil })
	checks.AddReady("store", func(context.Context) error {
		if p := storeErr.Load(); p != nil {
			return *p
		}
		return nil
	})
	s := listen(t, serverOpts(func(o *ServerOptions) {
		o.Addr, o.Metrics, o.Health = "127.0.0.1:0", NewMetrics(DefaultMetricsOptions()), checks
	}))
	base := "http://" + s.Addr()

	require.Equal(t, "ok", get(t, base+"/healthz", http.StatusOK))
	require.Equal(t, "ok", get(t, base+"/readyz", http.StatusOK))

	bad := errors.New("stored config cannot be decoded")
	storeErr.Store(&bad)
	require.Equal(t, "store: stored config cannot be decoded", get(t, base+"/readyz", http.StatusServiceUnavailable))
	require.Equal(t, "ok", get(t, base+"/healthz", http.StatusOK), "liveness does not depend on the store")
	storeErr.Store(nil)
	require.Equal(t, "ok", get(t, base+"/readyz", http.StatusOK))

	checks.AddReady("leadership", func(context.Context) error { return errors.New("not known yet") })
	storeErr.Store(&bad)
	require.Equal(t, "store: stored config cannot be decoded\nleadership: not known yet", get(t, base+"/readyz", http.StatusServiceUnavailable))

	resp, err := http.Post(base+"/healthz", "text/plain", nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// serverOpts returns the default ServerOptions changed by change.
func serverOpts(change func(o *ServerOptions)) ServerOptions {
	o := DefaultServerOptions()
	change(&o)
	return o
}

func TestServer_CheckTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	checks := &Checks{}
	checks.AddLive("loop", func(context.Context) error { <-release; return nil }) // ignores ctx on purpose
	s := listen(t, serverOpts(func(o *ServerOptions) {
		o.Addr, o.Metrics, o.Health, o.CheckTimeout = "127.0.0.1:0", NewMetrics(DefaultMetricsOptions()), checks, 50*time.Millisecond
	}))
	require.Equal(t, "check did not answer in time (50ms)", get(t, "http://"+s.Addr()+"/healthz", http.StatusServiceUnavailable))
	// /metrics answers while a check hangs.
	require.Contains(t, get(t, "http://"+s.Addr()+"/metrics", http.StatusOK), "go_goroutines")
}

func TestListen_Errors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() })
	m := NewMetrics(DefaultMetricsOptions())

	_, err = Listen(serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics, o.Health = busy.Addr().String(), m, &Checks{} }))
	require.ErrorIs(t, err, ErrBind)
	require.ErrorContains(t, err, "cannot listen on --metrics-addr "+busy.Addr().String()+": ")

	cases := []struct {
		name string
		opts ServerOptions
		want string
	}{
		{"no port", serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics, o.Health = "localhost", m, &Checks{} }), `Addr "localhost" must be HOST:PORT`},
		{"empty", serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics, o.Health = "", m, &Checks{} }), "Addr must not be empty: the metrics server is off"},
		{"no health", serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics = "127.0.0.1:0", m }), "Health must not be nil"},
		{"zero check timeout", serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics, o.Health, o.CheckTimeout = "127.0.0.1:0", m, &Checks{}, 0 }), "CheckTimeout must be > 0, got 0s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Listen(c.opts)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestHeartbeat(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h := NewHeartbeat(clk)
	check := h.Check(time.Minute)
	require.NoError(t, check(context.Background()))
	clk.SetTime(clk.Now().Add(61 * time.Second))
	require.EqualError(t, check(context.Background()), "no progress for 1m1s (limit 1m0s)")
	h.Beat()
	require.NoError(t, check(context.Background()))
	require.Equal(t, clk.Now(), h.Last().UTC())
}

func TestServer_ReadyDetails(t *testing.T) {
	var leader atomic.Pointer[string]
	checks := &Checks{}
	ready := atomic.Bool{}
	checks.AddReady("leadership", func(context.Context) error {
		if !ready.Load() {
			return errors.New("not known yet")
		}
		return nil
	})
	checks.AddReadyDetail("leader", func(context.Context) string {
		if p := leader.Load(); p != nil {
			return *p
		}
		return ""
	})
	s := listen(t, serverOpts(func(o *ServerOptions) {
		o.Addr, o.Metrics, o.Health = "127.0.0.1:0", NewMetrics(DefaultMetricsOptions()), checks
	}))
	base := "http://" + s.Addr()

	require.Equal(t, "leadership: not known yet", get(t, base+"/readyz", http.StatusServiceUnavailable), "no detail: no line")
	url := "https://127.0.0.1:24801"
	leader.Store(&url)
	require.Equal(t, "leadership: not known yet\nleader: "+url, get(t, base+"/readyz", http.StatusServiceUnavailable))
	ready.Store(true)
	require.Equal(t, "ok\nleader: "+url, get(t, base+"/readyz", http.StatusOK))
	require.Equal(t, "ok", get(t, base+"/healthz", http.StatusOK), "liveness has no details")
}
