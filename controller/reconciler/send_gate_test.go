package reconciler

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/controller/controllertest"
	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// heldPlugin serves a group simulator on a real unix socket and holds the
// first Plugin.Implements (the client's handshake, which comes after the
// gate and before the request) until released: the worker is then "frozen"
// between its gate and its write. It records the Group methods of the
// complete requests it receives.
type heldPlugin struct {
	next    http.Handler
	entered chan struct{}
	release chan struct{}
	once    sync.Once

	mu      sync.Mutex
	methods []string
}

func (h *heldPlugin) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // cut short: not a request (a gated one stops before its last bytes)
	}
	var m struct{ Method string }
	_ = json.Unmarshal(body, &m)
	if m.Method == "Plugin.Implements" {
		h.once.Do(func() { close(h.entered); <-h.release })
	} else {
		h.mu.Lock()
		h.methods = append(h.methods, m.Method)
		h.mu.Unlock()
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	h.next.ServeHTTP(w, req)
}

func (h *heldPlugin) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.methods...)
}

func TestSendGate_AWorkerFrozenAfterTheGateDoesNotSendOnStaleLeadership(t *testing.T) {
	cases := []struct {
		name       string
		frozen     time.Duration // how long the process "sleeps" between gate and write
		stillLeads bool          // what the leadership source says on waking
		want       []string      // Group calls that reach the plugin
	}{
		{"not frozen", 0, true, []string{"Group.CommitGroup"}},
		{"frozen, still the leader on waking", 3 * time.Second, true, []string{"Group.CommitGroup"}},
		{"frozen, another leads on waking", 3 * time.Second, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			dir, err := os.MkdirTemp("", "iksg")
			require.NoError(t, err)
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			sock := filepath.Join(dir, "group-stateless")
			held := &heldPlugin{next: plugin.NewHandler(controllertest.NewSim(t), plugin.DefaultServerOptions()),
				entered: make(chan struct{}), release: make(chan struct{})}
			ln, err := plugin.Listen(sock)
			require.NoError(t, err)
			srv := &http.Server{Handler: held}
			served := make(chan struct{})
			go func() { defer close(served); _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close(); <-served })

			// No lease loop runs: like the frozen process's, its renewals
			// and expiry do not get in first when the worker wakes.
			clk := clocktesting.NewFakeClock(time.Now())
			leader := sourcestest.NewStaticLeadership(true)
			o := DefaultOptions()
			o.PluginDir, o.Leadership, o.Store = dir, leader, sourcestest.NewMemStore()
			so := sink.DefaultOptions(dir) // the downstream as New wires it: sink, named client, client
			so.CallTimeout = 10 * time.Second
			o.Downstream, err = sink.New(so)
			require.NoError(t, err)
			o.Clock, o.Log = clk, testr.New(t)
			o.LeaseDuration, o.RenewInterval = 2*time.Second, 500*time.Millisecond
			o.Handover = HandoverFast // no handover runs here: the term acts at once
			require.NoError(t, o.Validate())
			r, err := newReconciler(&o, o.Store, o.Downstream)
			require.NoError(t, err)
			err = r.lease.CheckNow(ctx)
			require.NoError(t, err)
			require.Equal(t, lease.RoleLeader, r.lease.View().Role)

			done := make(chan outcome, 1)
			go func() {
				done <- r.execute(logr.NewContext(ctx, o.Log), Plan{ID: "a", Action: ActionCommit, Reason: "test", Spec: spec("a", 1), role: lease.RoleLeader})
			}()
			select {
			case <-held.entered:
			case <-ctx.Done():
				t.Fatal("the commit never reached the handshake")
			}
			leader.Set(c.stillLeads)
			clk.Step(c.frozen)
			checks := leader.Checks()
			close(held.release)
			var out outcome
			select {
			case out = <-done:
			case <-ctx.Done():
				t.Fatal("the commit never returned")
			}
			t.Logf("%s: calls received %v, outcome %v", c.name, held.received(), out.err)
			require.Equal(t, c.want, held.received())
			if c.frozen > 0 {
				require.Greater(t, leader.Checks(), checks, "a stale confirmation is re-checked before the request is written")
			} else {
				require.Equal(t, checks, leader.Checks(), "a fresh confirmation is not re-checked")
			}
			if c.want == nil {
				require.ErrorIs(t, out.err, lease.ErrNotLeader)
				require.ErrorIs(t, out.err, plugin.ErrNotSent)
				require.True(t, IsTerminal(out.err))
			} else {
				require.NoError(t, out.err)
			}
		})
	}
}
