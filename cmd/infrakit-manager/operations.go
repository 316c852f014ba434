package main

import (
	"context"
	"fmt"
	"net"
	"runtime"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/buildinfo"
	"github.com/infrakit-manager/manager/internal/ops"
)

// operations are the metrics and health checks of one manager process and
// the server on --metrics-addr that serves them.
type operations struct {
	metrics *ops.Metrics // always made, so every part can record into it
	checks  *ops.Checks  // /healthz and /readyz; parts add their checks
	server  *ops.Server  // nil until start, and when --metrics-addr is empty
}

func newOperations(g *globals) *operations {
	mo := ops.DefaultMetricsOptions()
	mo.LeaseName = g.name
	met := ops.NewMetrics(mo)
	bi := buildinfo.Get()
	met.SetBuildInfo(bi.Version, bi.Commit, runtime.Version())
	return &operations{metrics: met, checks: &ops.Checks{}}
}

// addSocketCheck makes /readyz fail while nothing accepts on the Group socket.
func (o *operations) addSocketCheck(path string) {
	o.checks.AddReady("socket", func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			return fmt.Errorf("not serving %s: %w", path, err)
		}
		return c.Close()
	})
}

// start serves on addr; "" leaves the server off. A bind failure is a usage
// error (exit 2) naming the address.
func (o *operations) start(addr string, log logr.Logger) error {
	if addr == "" {
		return nil
	}
	so := ops.DefaultServerOptions()
	so.Addr, so.Metrics, so.Health, so.Log = addr, o.metrics, o.checks, log
	s, err := ops.Listen(so)
	if err != nil {
		return usageError{flagError(err, map[string]string{"Addr": "--metrics-addr"})}
	}
	o.server = s
	return nil
}

// stop shuts the server down, if it runs.
func (o *operations) stop(ctx context.Context) error {
	if o.server == nil {
		return nil
	}
	return o.server.Shutdown(ctx)
}
