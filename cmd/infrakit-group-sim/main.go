// Command infrakit-group-sim serves a simulated group plugin (package
// groupsim) on a unix socket in the plugin directory, as the original
// infrakit-group-default would, for demos, end-to-end tests and benchmarks.
//
//	infrakit-group-sim [--name group-stateless] [--plugin-dir DIR] [--log 0..5] [--log-format json|console]
//	    [--latency D] [--fail Method,…] [--hang Method,…] [--events FILE]
//
// It serves until SIGINT or SIGTERM, then stops (removing its socket) and
// exits 0. It refuses to start over a socket a live server answers on, and
// replaces a stale one. A bad command line (an invalid --name, see
// plugin.ValidateName) exits 2, other errors 1.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := newCommand()
	if err := cmd.ExecuteContext(ctx); err != nil {
		stop()
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
