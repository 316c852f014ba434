package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/internal/logging"
	"github.com/infrakit-manager/manager/plugin"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line is wrong
)

// defaultTimeout bounds each plugin call.
const defaultTimeout = 30 * time.Second

// streams are the process's standard streams.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// app holds the global flags and what commands share.
type app struct {
	streams
	logLevel  int
	pluginDir string
	timeout   time.Duration
	remote    hostFlags
	log       logr.Logger
	now       func() time.Time
}

// failure marks an error of a command that ran (as opposed to a usage
// error); it is reported as a fatal log line with exit code 1.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// runE adapts a command body: its errors are failures, not usage errors.
func runE(fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := fn(cmd.Context(), args); err != nil {
			return &failure{err: err}
		}
		return nil
	}
}

// execute runs the CLI and returns the process exit code.
func execute(ctx context.Context, args []string, s streams) int {
	a := &app{streams: s, now: time.Now, log: logr.Discard()}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	cmd, err := root.ExecuteContextC(ctx)
	var f *failure
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &f):
		if !errors.Is(f.err, errUnhealthy) { // the status printed says why
			// A not-a-leader answer keeps its msg (the original's text)
			// and names the leader in a field.
			fmt.Fprintln(s.err, fatalLine(a.now(), a.explain(f.err))+notLeaderFields(f.err))
		}
		return exitFailure
	default:
		fmt.Fprintf(s.err, "Error: %s\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return exitUsage
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "infrakit",
		Short:         "InfraKit command line interface",
		SilenceErrors: true, // execute reports errors
		SilenceUsage:  true,
		Args:          noArgs,
		RunE:          helpOnly,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, _, err := logging.New(a.logLevel, logging.JSON, a.err)
			if err != nil {
				return err // a usage error
			}
			if a.timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, got %s", a.timeout)
			}
			a.log = log
			return a.remote.connect(a.clientOptions())
		},
	}
	// `infrakit completion bash|zsh|fish|powershell` is cobra's default command.
	pf := root.PersistentFlags()
	pf.IntVar(&a.logLevel, "log", 4, "log level 0 (panic) … 5 (debug), as logrus levels")
	pf.StringVar(&a.pluginDir, "plugin-dir", plugin.DefaultDir(), "plugin directory ($"+plugin.PluginsDirEnv+" or ~/.infrakit/plugins)")
	pf.DurationVar(&a.timeout, "timeout", defaultTimeout, "deadline of each plugin call")
	a.remote.register(pf)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(a.groupCommand(), a.managerCommand(), a.pluginCommand(), a.versionCommand())
	return root
}

// explain is a failure's text with what to do next where the error alone
// would not say: a plugin that is not found names the directory searched.
func (a *app) explain(err error) string {
	if errors.Is(err, plugin.ErrPluginNotFound) {
		return fmt.Sprintf("%s (no socket of that name in %s: start the plugin there, or set --plugin-dir or $%s to its directory)",
			err, a.pluginDir, plugin.PluginsDirEnv)
	}
	return err.Error()
}

// dir is the plugin directory of the --plugin-dir flag.
func (a *app) dir() plugin.Dir { return plugin.Dir{Path: a.pluginDir} }

// clientOptions are the options of every plugin client.
func (a *app) clientOptions() plugin.ClientOptions {
	return plugin.ClientOptions{Timeout: a.timeout}
}

// noArgs accepts no positional arguments; a word there is an unknown
// command, and commands spelled like it are suggested (as cobra does for
// the commands it checks itself).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor alone does not apply
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return errors.New(msg)
}

// helpOnly prints help: a command that only groups subcommands.
func helpOnly(cmd *cobra.Command, _ []string) error { return cmd.Help() }
