package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/internal/logging"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// stopTimeout bounds the graceful stop after a signal (as the original's 10s).
const stopTimeout = 10 * time.Second

// flags are the command line of infrakit-group-sim.
type flags struct {
	name      string
	pluginDir string
	latency   time.Duration
	fail      string
	hang      string
	late      string
	lateBy    time.Duration
	events    string
	echo      string
	log       int
	logFormat string
}

func newCommand() *cobra.Command {
	var f flags
	cmd := &cobra.Command{
		Use:   "infrakit-group-sim",
		Short: "Serve a simulated InfraKit group plugin",
		Long: "Serve a simulated InfraKit group plugin (Group API 0.1.0) on <plugin-dir>/<name> until SIGINT or SIGTERM.\n" +
			"Groups live in memory. --fail and --hang take method names: " + strings.Join(groupsim.Methods(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true // past flag parsing, errors are not usage errors
			return run(cmd.Context(), f, cmd.ErrOrStderr())
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "group-stateless", "plugin name: the socket file name in the plugin directory")
	fl.StringVar(&f.pluginDir, "plugin-dir", plugin.DefaultDir(), "plugin directory ($"+plugin.PluginsDirEnv+" or ~/.infrakit/plugins)")
	fl.DurationVar(&f.latency, "latency", 0, "latency added to every call")
	fl.StringVar(&f.fail, "fail", "", "comma-separated methods that fail with \"simulated failure: <Method>\"")
	fl.StringVar(&f.hang, "hang", "", "comma-separated methods that block until the caller gives up")
	fl.StringVar(&f.late, "late", "", "comma-separated methods (CommitGroup) whose non-pretend calls wait --late-by and are then carried out even if the caller gave up")
	fl.DurationVar(&f.lateBy, "late-by", time.Second, "how long --late methods wait")
	fl.StringVar(&f.events, "events", "", "append a JSON line per completed commit, free and destroy to this file")
	fl.StringVar(&f.echo, "echo", groupsim.DefaultOptions().Echo, "how InspectGroups answers a committed spec: normalised (like the original plugin: unknown fields dropped, absent Instance/Flavor filled) or verbatim")
	fl.IntVar(&f.log, "log", 4, "log level 0 (panic) … 5 (debug), as logrus levels")
	fl.StringVar(&f.logFormat, "log-format", logging.JSON, "log encoding on stderr: console or json (json by default: tests and scripts read it)")
	return cmd
}

// options turns flags into groupsim options (the event file is opened by run).
func (f flags) options(log logr.Logger) (groupsim.Options, error) {
	opts := groupsim.DefaultOptions()
	opts.Log = log
	opts.Faults.Latency = f.latency
	opts.Echo = f.echo
	var err error
	if opts.Faults.Fail, err = groupsim.ParseMethods(f.fail); err != nil {
		return opts, fmt.Errorf("--fail: %w", err)
	}
	if opts.Faults.Hang, err = groupsim.ParseMethods(f.hang); err != nil {
		return opts, fmt.Errorf("--hang: %w", err)
	}
	if opts.Faults.Late, err = groupsim.ParseMethods(f.late); err != nil {
		return opts, fmt.Errorf("--late: %w", err)
	}
	opts.Faults.LateBy = f.lateBy
	if f.latency < 0 {
		return opts, fmt.Errorf("--latency must not be negative, got %s", f.latency)
	}
	if err := plugin.ValidateName(f.name); err != nil {
		return opts, fmt.Errorf("--name: %w", err)
	}
	if f.pluginDir == "" {
		return opts, errors.New("--plugin-dir must not be empty")
	}
	return opts, nil
}

// run serves until ctx is done.
func run(ctx context.Context, f flags, stderr io.Writer) error {
	log, sync, err := logging.New(f.log, f.logFormat, stderr)
	if err != nil {
		return usageError{err}
	}
	defer sync()
	opts, err := f.options(log.WithName("groupsim"))
	if err != nil {
		return usageError{err}
	}
	if f.events != "" {
		file, err := groupsim.OpenEventFile(f.events)
		if err != nil {
			return err
		}
		defer file.Close()
		opts.Events = file
	}
	sim, err := groupsim.New(opts)
	if err != nil {
		// groupsim names Options fields; say which flag sets each.
		return field.Rename(err, map[string]string{
			"Echo": "--echo", "Latency": "--latency", "Fail": "--fail", "Hang": "--hang", "Late": "--late", "LateBy": "--late-by",
		})
	}
	path := filepath.Join(f.pluginDir, f.name)
	so := plugin.DefaultServerOptions()
	so.Log = log
	srv, err := plugin.Serve(path, sim, so)
	if errors.Is(err, plugin.ErrSocketInUse) {
		return fmt.Errorf("another plugin is already serving at %s; stop it or choose another --name: %w", path, err)
	}
	if err != nil {
		return err
	}
	log.Info("listening", "path", path)
	<-ctx.Done()
	log.Info("stopping", "path", path)
	sim.Close() // release hanging calls so that the stop is prompt
	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		return err
	}
	log.Info("stopped", "path", path)
	return nil
}

// usageError marks a bad command line: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }
