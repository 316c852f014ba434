package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/infrakit-manager/manager/internal/field"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, measures, prints the table on stdout and writes the
// report. It returns 0, 1 when a measurement failed, 2 on bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	opts.Log = funcr.New(func(prefix, a string) { fmt.Fprintln(stderr, prefix, a) }, funcr.Options{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, opts, stdout); err != nil {
		fmt.Fprintln(stderr, "bench:", field.Rename(err, benchFlags()))
		return 1
	}
	return 0
}

// benchFlags are the Options fields set from flags, by flag.
func benchFlags() map[string]string {
	return map[string]string{
		"Build": "-build", "Swarm": "-swarm", "Etcd": "-etcd", "EtcdRounds": "-etcd-rounds", "Flips": "-flips",
		"Handovers": "-handovers", "Takeovers": "-takeovers", "Sections": "-sections", "Commits": "-commits",
		"ConcurrentClients": "-clients", "Demotes": "-demotes", "Deadline": "-deadline", "Profile": "-profile", "ScaleRows": "-scale-rows",
	}
}

func parseFlags(args []string, stderr io.Writer) (Options, error) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Build, "build", o.Build, "directory of the built binaries")
	fs.StringVar(&o.Out, "out", o.Out, "Markdown report to write (empty: none)")
	fs.StringVar(&o.SwarmLab, "swarm-lab", o.SwarmLab, "swarm lab script")
	fs.StringVar(&o.Swarm, "swarm", o.Swarm, "auto: measure swarm mode when a Docker engine can be started; off: skip")
	fs.StringVar(&o.EtcdLab, "etcd-lab", o.EtcdLab, "etcd lab script")
	fs.StringVar(&o.Etcd, "etcd", o.Etcd, "auto: measure etcd mode when etcd and etcdctl are installed; off: skip")
	fs.IntVar(&o.EtcdRounds, "etcd-rounds", o.EtcdRounds, "rounds of each etcd fault (at least 5)")
	fs.IntVar(&o.Flips, "flips", o.Flips, "leader-file flips each way (at least 50)")
	fs.IntVar(&o.Handovers, "handovers", o.Handovers, "two-manager handovers (at least 50)")
	fs.Func("takeovers", "comma-separated stored-group counts to take over (default 1,100,1000,10000)", func(v string) error {
		counts, err := parseCounts(v)
		o.Takeovers = counts
		return err
	})
	fs.Func("etcd-scale", "comma-separated stored-group counts of the etcd scale model (default 1000,10000,100000)", func(v string) error {
		counts, err := parseCounts(v)
		o.EtcdScale = counts
		return err
	})
	fs.Func("curve", "comma-separated stored-group counts of the os and swarm cost curves (default 1000,10000,100000)", func(v string) error {
		counts, err := parseCounts(v)
		o.Curve = counts
		return err
	})
	fs.Func("scale-rows", "comma-separated rows of the scale section: idle, resync, commit, frees, phantom, answer, takeovers (default all)", func(v string) error {
		o.ScaleRows = strings.Split(v, ",")
		return nil
	})
	fs.Func("sections", "comma-separated sections to run: commits, flips, handovers, takeovers, forward, swarm, etcd, scale, etcdscale, oscurve, swarmcurve (default all)", func(v string) error {
		o.Sections = strings.Split(v, ",")
		return nil
	})
	fs.IntVar(&o.Commits, "commits", o.Commits, "sequential commits per path with one client")
	fs.IntVar(&o.ConcurrentClients, "clients", o.ConcurrentClients, "concurrent clients of the second commit measurement")
	fs.IntVar(&o.Demotes, "demotes", o.Demotes, "swarm demote rounds")
	fs.DurationVar(&o.Deadline, "deadline", o.Deadline, "time limit of the run; sections not started by then are skipped")
	fs.BoolVar(&o.Keep, "keep", false, "keep the run's directory (process logs, stores, event logs)")
	fs.StringVar(&o.Profile, "profile", o.Profile, "profile the controller in-process: auto (when a goal is missed), always, off")
	fs.StringVar(&o.CPUProfileDir, "cpuprofile-dir", "", "where CPU profiles go (default <build>/bench-profiles)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
		fmt.Fprintln(stderr, "bench:", err)
		return o, err
	}
	o.Command = strings.TrimSpace("go run ./hack/bench " + strings.Join(args, " "))
	if c := os.Getenv("BENCH_COMMAND"); c != "" {
		o.Command = c + "`, which runs `" + o.Command
	}
	return o, nil
}

// parseCounts parses "1,100,1000".
func parseCounts(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// harness is one run's state.
type harness struct {
	opts   Options
	log    logr.Logger
	root   string // short temp dir: sockets, stores, logs
	procs  *procs
	failed []error
}

func (h *harness) bin(name string) string { return filepath.Join(h.opts.Build, name) }

// section is one measurement.
type section struct {
	name    string
	measure string // the row named when it is skipped or fails
	goal    string
	orig    string
	run     func(context.Context) ([]row, error)
	skip    func(context.Context) string // optional
}

func bench(ctx context.Context, opts Options, stdout io.Writer) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if opts.CPUProfileDir == "" {
		opts.CPUProfileDir = filepath.Join(opts.Build, "bench-profiles")
	}
	build, err := filepath.Abs(opts.Build)
	if err != nil {
		return err
	}
	opts.Build = build
	root, err := os.MkdirTemp("", "ikb")
	if err != nil {
		return err
	}
	h := &harness{opts: opts, log: opts.Log, root: root, procs: &procs{dir: filepath.Join(root, "logs")}}
	if err := os.MkdirAll(h.procs.dir, 0o700); err != nil {
		return err
	}
	started := time.Now()
	mach := probeMachine(root)
	h.log.Info("bench starting", "root", root, "load", mach.LoadStart, "cpus", mach.CPUs)
	ctx, cancel := context.WithTimeout(ctx, opts.Deadline)
	defer cancel()

	sections := []section{
		{name: "commits", measure: "commit latency and idle RSS", run: h.commits},
		{name: "flips", measure: "leader-file flip to first RPC", run: h.flips},
		{name: "handovers", measure: "two-manager handover", run: h.handovers},
		{name: "takeovers", measure: "takeover", run: h.takeovers},
		{name: "forward", measure: measureForward, run: h.forward},
		{name: "swarm", measure: swarmMeasure, orig: swarmOrig,
			run: h.swarm, skip: h.swarmSkip},
		{name: "etcd", measure: etcdMeasure, run: h.etcd, skip: h.etcdSkip},
		{name: "scale", measure: "idle leader, resync, unknown-ID frees and phantom flood at scale", run: h.scale},
		{name: "etcdscale", measure: "etcd scale model, 1,000 to 100,000 groups", run: h.etcdScale, skip: h.etcdSkip},
		{name: "oscurve", measure: "os cost curve, 1,000 to 100,000 groups", run: h.osCurve},
		{name: "swarmcurve", measure: "swarm cost curve, 1,000 groups up to what the label holds", run: h.swarmCurve, skip: h.swarmCurveSkip},
	}
	sections = append(sections, section{name: "profile", measure: "in-process CPU profiles", run: h.profile})
	var rows []row
	var conds []condition
	for _, s := range sections {
		if len(opts.Sections) > 0 && !slices.Contains(opts.Sections, s.name) {
			continue
		}
		if s.name == "profile" && !h.wantProfile(rows) {
			continue
		}
		if err := ctx.Err(); err != nil {
			why := "the run's time limit was reached"
			if errors.Is(err, context.Canceled) {
				why = "the run was interrupted"
			}
			rows = append(rows, skipRow(s.measure, why, s.goal, s.orig))
			continue
		}
		if s.skip != nil {
			if why := s.skip(ctx); why != "" {
				h.log.Info("section skipped", "section", s.name, "reason", why)
				rows = append(rows, skipRow(s.measure, why, s.goal, s.orig))
				continue
			}
		}
		h.log.Info("section starting", "section", s.name)
		t, psi, load := time.Now(), readPressure(), loadAvg()
		r, err := s.run(ctx)
		conds = append(conds, conditionSince(s.name, load, psi))
		h.procs.closeAll()
		if err != nil {
			h.log.Error(err, "section failed", "section", s.name)
			h.failed = append(h.failed, fmt.Errorf("%s: %w", s.name, err))
			rows = append(rows, failRow(s.measure, err))
		}
		rows = append(rows, r...)
		h.log.Info("section done", "section", s.name, "took", time.Since(t).Round(time.Millisecond).String())
	}
	mach.LoadEnd = loadAvg()

	var table bytes.Buffer
	if err := printTable(&table, rows); err != nil {
		return err
	}
	if _, err := stdout.Write(table.Bytes()); err != nil {
		return err
	}
	if opts.Out != "" {
		rep := report{Rows: rows, Machine: mach, Command: opts.Command, Started: started,
			Took: time.Since(started), Table: table.String(), Analysis: analysisFor(rows), Conditions: conds}
		if err := writeReport(opts.Out, rep); err != nil {
			return err
		}
		h.log.Info("report written", "path", opts.Out)
	}
	if len(h.failed) > 0 {
		return fmt.Errorf("%w; process logs kept in %s", errors.Join(h.failed...), filepath.Join(root, "logs"))
	}
	if opts.Keep {
		h.log.Info("run directory kept", "path", root)
		return nil
	}
	return os.RemoveAll(root)
}

// wantProfile reports whether the profile section runs after rows.
func (h *harness) wantProfile(rows []row) bool {
	switch h.opts.Profile {
	case profileAlways:
		return true
	case profileAuto:
		return slices.ContainsFunc(rows, func(r row) bool { return r.Verdict == missed })
	default:
		return false
	}
}

// writeReport writes the page through a temp file and a rename.
func writeReport(path string, rep report) error {
	var b bytes.Buffer
	if err := writeMarkdown(&b, rep); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
