package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/sources"
)

// modeOptions are the lease settings each mode sets from its own flags.
type modeOptions struct {
	lease  time.Duration      // --lease-duration
	renew  time.Duration      // --poll-interval
	mode   string             // "os", "swarm", "etcd"
	store  string             // where the groups are, for status
	claims []controller.Claim // the mode's claims besides the downstream's
	// handoverMode is --handover of os and swarm (controller.Options.
	// Handover); etcd's election fences the handover itself, so it acts at
	// once (controller.HandoverFast).
	handoverMode   string
	handoverMargin time.Duration    // --handover-margin
	record         sources.Handover // os: the store directory's handover record
	// handover, when set, runs on SIGINT/SIGTERM before the manager stops
	// (etcd: a leader with a rival frees its groups, then resigns).
	handover func(ctx context.Context, m *controller.Manager)
	// locations is where the leader publishes its --advertise URL; nil in a
	// mode that publishes none.
	locations sources.LocationStore
	// locationEvery is how often the location is re-read (0: --poll-interval).
	locationEvery time.Duration
}

// addHandoverFlags adds --handover and --handover-margin to a mode that
// detects leadership without fencing (os, swarm).
func (m *modeOptions) addHandoverFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	d := controller.DefaultOptions()
	m.handoverMode, m.handoverMargin = d.Handover, d.HandoverMargin
	f.StringVar(&m.handoverMode, "handover", m.handoverMode, "fenced: a new leader changes nothing downstream until the previous one has released or its lease has certainly run out (a frozen or crashed old leader costs a gap of about the lease); fast: act at once (no gap, but the two may both manage the groups for a moment)")
	f.DurationVar(&m.handoverMargin, "handover-margin", m.handoverMargin, "with --handover fenced: added to --lease-duration to bound the wait when the previous leader does not release")
}

// options turns the global and mode flags into controller Options. op
// carries the metrics (op.metrics: workqueue.MetricsProvider,
// sink.CallObserver, plugin.RequestObserver, and the controller's own calls)
// and the health checks (op.checks) the controller records into.
func (g *globals) options(log logr.Logger, l sources.Leadership, s sources.Store, m modeOptions, op *operations) controller.Options {
	o := controller.DefaultOptions()
	o.Name, o.ProxyFor, o.PluginDir = g.name, g.proxyFor, g.pluginDir
	o.CallTimeout, o.ResyncInterval, o.Workers, o.MaxBackoff = g.callTimeout, g.resync, g.workers, g.maxBackoff
	o.CheckTimeout, o.StoreTimeout = g.checkTimeout, g.storeTimeout
	o.LeaseDuration, o.RenewInterval = m.lease, m.renew
	o.Leadership, o.Store, o.Log = l, s, log
	o.Metrics, o.Checks = op.metrics, op.checks
	o.Mode, o.StoreLocation = m.mode, m.store
	o.Handover, o.HandoverRecord = controller.HandoverFast, m.record
	if m.handoverMode != "" {
		o.Handover, o.HandoverMargin = m.handoverMode, m.handoverMargin
	}
	o.LocationInterval = m.locationEvery
	o.Claims = m.claims
	return o
}

// runManager is the one code path of every mode: the daemon until SIGINT or
// SIGTERM, or with --once a single reconcile pass.
func runManager(cmd *cobra.Command, g *globals, log logr.Logger, l sources.Leadership, s sources.Store, mo modeOptions) error {
	op := newOperations(g)
	opts := g.options(log, l, s, mo, op)
	if err := g.net.apply(&opts, mo.locations, log); err != nil {
		return usageError{err}
	}
	m, err := controller.New(opts)
	if err != nil {
		return usageError{flagError(err, managerFlags())}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if g.once {
		// SIGHUP must not kill a pass half way either.
		signal.Ignore(syscall.SIGHUP)
		sum, err := m.RunOnce(ctx, cmd.OutOrStdout(), g.dryRun)
		if err != nil {
			return exitError{code: 1, msg: err.Error()}
		}
		if !sum.Converged() && !g.dryRun {
			if sum.Waiting > 0 {
				return exitError{code: 1, msg: fmt.Sprintf("not converged: %d action(s) failed, %d group(s) waiting or still to be destroyed", sum.Failed, sum.Waiting)}
			}
			return exitError{code: 1, msg: fmt.Sprintf("not converged: %d action(s) failed", sum.Failed)}
		}
		return nil
	}

	// Bound before the manager starts, so a bad --metrics-addr changes nothing.
	op.addSocketCheck(m.SocketPath())
	if err := op.start(g.metricsAddr, log.WithName("ops")); err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		_ = op.stop(context.Background())
		return err
	}
	// SIGHUP never kills: it re-checks leadership and the store at once.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for waiting := true; waiting; {
		select {
		case <-ctx.Done():
			waiting = false
		case <-hup:
			m.Recheck("SIGHUP")
		}
	}
	if mo.handover != nil && m.Role() == controller.RoleLeader {
		hctx, hcancel := context.WithTimeout(context.Background(), min(g.shutdownWait, mo.lease))
		mo.handover(hctx, m)
		hcancel()
	} else {
		log.Info("shutting down; groups keep running downstream")
	}
	sctx, cancel := context.WithTimeout(context.Background(), g.shutdownWait)
	defer cancel()
	if err := m.Stop(sctx); err != nil && !errors.Is(err, context.Canceled) {
		_ = op.stop(sctx)
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := op.stop(sctx); err != nil {
		return fmt.Errorf("shutdown: metrics server: %w", err)
	}
	log.Info("stopped")
	return nil
}
