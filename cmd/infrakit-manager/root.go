package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/internal/logging"
	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
)

// globals are the flags every mode shares. They may appear before or after
// the subcommand.
type globals struct {
	logLevel     int
	logFormat    string
	name         string
	proxyFor     string
	pluginDir    string
	once         bool
	dryRun       bool
	callTimeout  time.Duration
	resync       time.Duration
	checkTimeout time.Duration
	storeTimeout time.Duration
	workers      int
	maxBackoff   time.Duration
	shutdownWait time.Duration
	metricsAddr  string
	net          listenFlags
	log          logr.Logger // built from --log and --log-format before any subcommand runs
	flushLog     func()
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	d := controller.DefaultOptions()
	root := &cobra.Command{
		Use:           "infrakit-manager",
		Short:         "Leader-aware front end that keeps a group plugin running exactly the committed groups",
		SilenceUsage:  true,
		SilenceErrors: true,
		// `infrakit-manager completion bash|zsh|fish|powershell`.
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPostRun: func(*cobra.Command, []string) {
			if g.flushLog != nil {
				g.flushLog()
			}
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, flush, err := logging.New(g.logLevel, g.logFormat, cmd.ErrOrStderr())
			if err != nil {
				return usageError{err}
			}
			g.log, g.flushLog = log, flush
			if err := plugin.ValidateName(g.name); err != nil {
				return usageError{fmt.Errorf("--name: %w", err)}
			}
			if err := plugin.ValidateName(g.proxyFor); err != nil {
				return usageError{fmt.Errorf("--proxy-for-group: %w", err)}
			}
			if g.dryRun && !g.once {
				return usageError{errors.New("--dry-run needs --once")}
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.IntVar(&g.logLevel, "log", 4, "log level 0..5: 0 panic, 1 fatal, 2 error, 3 warn, 4 info, 5 debug")
	pf.StringVar(&g.logFormat, "log-format", logging.Console, "log encoding on stderr: console or json")
	pf.StringVar(&g.name, "name", d.Name, "socket name of the Group API this manager serves, and its identity in the leader file")
	pf.StringVar(&g.proxyFor, "proxy-for-group", d.ProxyFor, "name of the downstream group plugin to drive")
	pf.StringVar(&g.pluginDir, "plugin-dir", d.PluginDir, "plugin directory ($INFRAKIT_PLUGINS_DIR, else ~/.infrakit/plugins)")
	pf.BoolVar(&g.once, "once", false, "check leadership once, reconcile every group once, print each action, exit (0 converged; 1 an action failed, leadership unknown or store unreadable: then nothing is acted on)")
	pf.BoolVar(&g.dryRun, "dry-run", false, "with --once: print the plan, act on nothing")
	pf.DurationVar(&g.callTimeout, "call-timeout", d.CallTimeout, "deadline of every downstream call")
	pf.DurationVar(&g.resync, "resync-interval", d.ResyncInterval, "how often every group is re-checked against the downstream")
	pf.DurationVar(&g.checkTimeout, "check-timeout", d.CheckTimeout, "deadline of one leadership check (a check that misses it is unknown)")
	pf.DurationVar(&g.storeTimeout, "store-timeout", d.StoreTimeout, "deadline of one store read or write")
	pf.IntVar(&g.workers, "workers", d.Workers, "groups reconciled concurrently")
	pf.DurationVar(&g.maxBackoff, "max-backoff", d.MaxBackoff, "cap of the per-group retry delay")
	pf.DurationVar(&g.shutdownWait, "shutdown-timeout", 10*time.Second, "how long SIGINT/SIGTERM waits for in-flight requests")
	pf.StringVar(&g.metricsAddr, "metrics-addr", ops.DefaultServerOptions().Addr, "HOST:PORT serving /metrics, /healthz and /readyz, e.g. "+ops.SuggestedMetricsAddr+" (default off; not with --once)")
	g.net.register(pf)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(newOSCmd(g), newSwarmCmd(g), newEtcdCmd(g), newVersionCmd())
	return root
}

// usageError marks bad usage: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	// cobra's own argument and command errors.
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.Contains(msg, "arg(s)") || strings.HasPrefix(msg, "required flag")
}

// homeDir is the OS user database's home, else $HOME, as the original did.
func homeDir() string {
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		return u.HomeDir
	}
	if h := os.Getenv("HOME"); h != "" {
		return h
	}
	return "."
}

// envOr returns $key if set and non-empty, else the default under ~/.infrakit.
func envOr(key, rel string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return filepath.Join(homeDir(), ".infrakit", rel)
}
