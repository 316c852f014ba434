package main

import (
	"context"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources/etcd"
)

// etcdHandover is SIGTERM of a leader: with a rival candidate waiting, it
// frees the groups while still holding the election key (so nobody else
// runs them yet), bounded by ctx, and returns; the manager then stops and
// Close revokes the lease, so the rival commits at once: no group runs on
// two downstreams. As the only candidate it keeps the groups running (a
// restart leads again at once: Close revokes the old lease).
func etcdHandover(l *etcd.Leadership, g *globals, log logr.Logger) func(ctx context.Context, m *controller.Manager) {
	return func(ctx context.Context, m *controller.Manager) {
		n, err := l.Rivals(ctx)
		switch {
		case err != nil:
			log.Error(err, "shutting down as leader without a handover: the election is unreadable; groups keep running downstream")
			return
		case n == 0:
			log.Info("shutting down as the only candidate; groups keep running downstream")
			return
		}
		start := time.Now()
		log.Info("shutting down as leader: freeing the groups, then resigning", "rivals", n)
		l.Resign()
		m.Recheck("handing over")
		down := plugin.NewNamedClient(plugin.Dir{Path: g.pluginDir}, g.proxyFor, plugin.ClientOptions{Timeout: time.Second})
		defer down.Close()
		for {
			if m.Role() != controller.RoleLeader {
				if specs, err := down.InspectGroups(ctx); err == nil && len(specs) == 0 {
					log.Info("handed over: every group freed; resigning the lease", "took", time.Since(start).Round(time.Millisecond).String())
					return
				}
			}
			select {
			case <-ctx.Done():
				log.Info("handover: groups not all freed in time; resigning anyway", "took", time.Since(start).Round(time.Millisecond).String())
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
