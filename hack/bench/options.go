package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
)

// Swarm modes; the etcd section's modes are the same.
const (
	sectionAuto = "auto" // run when the section's engine can start here, else skip with the reason
	sectionOff  = "off"  // always skip
)

// Profile modes.
const (
	profileAuto   = "auto"   // when a goal was missed
	profileAlways = "always" // every run
	profileOff    = "off"    // never
)

// Options configure one harness run. Start from DefaultOptions.
type Options struct {
	// Build is the directory holding the built binaries. Defaults to "build".
	Build string
	// Out is the Markdown report written at the end. Defaults to
	// "docs/benchmarks.md"; empty writes none.
	Out string
	// SwarmLab is the swarm lab script. Defaults to "hack/swarm-lab.sh".
	SwarmLab string
	// Swarm is sectionAuto or sectionOff. Defaults to sectionAuto.
	Swarm string
	// EtcdLab is the etcd lab script. Defaults to "hack/etcd-lab.sh".
	EtcdLab string
	// Etcd is sectionAuto (measure etcd mode when etcd and etcdctl are
	// installed) or sectionOff. Defaults to sectionAuto.
	Etcd string
	// EtcdRounds is the number of rounds of each etcd fault (kill -9 of the
	// leading manager, its etcd connections frozen, kill -9 of the etcd Raft
	// leader member). Defaults to 5, the least allowed.
	EtcdRounds int
	// Flips is the number of leader-file flips each way (gain, loss).
	// Defaults to 100.
	Flips int
	// Handovers is the number of two-manager handovers. Defaults to 100.
	Handovers int
	// Takeovers are the stored-group counts taken over. Defaults to 1, 100,
	// 1,000 and 10,000.
	Takeovers []int
	// Commits is the number of sequential commits per path with one client.
	// Defaults to 300.
	Commits int
	// ConcurrentClients is the number of concurrent clients of the second
	// commit measurement. Defaults to 16.
	ConcurrentClients int
	// CommitsPerClient is each concurrent client's number of commits per
	// path. Defaults to 40.
	CommitsPerClient int
	// Fsyncs is the number of write+fsync+rename+dir-fsync samples.
	// Defaults to 200.
	Fsyncs int
	// Demotes is the number of swarm demote rounds. Defaults to 5.
	Demotes int
	// Deadline bounds the whole run; sections not started by then are
	// skipped with that reason. Defaults to 9 minutes.
	Deadline time.Duration
	// Profile says when the profile section runs: the largest takeover and
	// sequential commits again with the controller in-process under a CPU
	// profile, with the store and downstream calls timed. profileAuto runs
	// it when a goal was missed, profileAlways always, profileOff never.
	// Defaults to profileAuto.
	Profile string
	// CPUProfileDir receives the profiles. It follows Build unless set:
	// empty, the default, means <Build>/bench-profiles.
	CPUProfileDir string
	// EtcdScale are the stored-group counts of the etcd scale model
	// (section etcdscale).
	EtcdScale []int
	// Curve are the stored-group counts of the os and swarm cost curves
	// (sections oscurve, swarmcurve). Defaults to 1,000, 10,000 and
	// 100,000 (swarm: those its label holds).
	Curve []int
	// ScaleRows limits the scale section to the named rows (idle, resync,
	// commit, frees, phantom, answer, takeovers). Defaults to all.
	ScaleRows []string
	// Sections limits the run to the named sections (commits, flips,
	// handovers, takeovers, swarm, etcd, profile). Defaults to all; the report
	// then holds only their rows.
	Sections []string
	// Keep keeps the run's directory (process logs, stores, event logs)
	// instead of removing it at the end; it is always kept after a failure.
	Keep bool
	// Command is the command line recorded in the report.
	Command string
	// Log receives progress lines. The zero Logger discards.
	Log logr.Logger
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		Build:             "build",
		Out:               filepath.Join("docs", "benchmarks.md"),
		SwarmLab:          filepath.Join("hack", "swarm-lab.sh"),
		Swarm:             sectionAuto,
		EtcdLab:           filepath.Join("hack", "etcd-lab.sh"),
		Etcd:              sectionAuto,
		EtcdRounds:        5,
		Profile:           profileAuto,
		Flips:             100,
		Handovers:         100,
		Takeovers:         []int{1, 100, 1000, 10000},
		Commits:           300,
		ConcurrentClients: 16,
		CommitsPerClient:  40,
		Fsyncs:            200,
		Demotes:           5,
		Deadline:          9 * time.Minute,
	}
}

// Validate checks the options without changing them (it looks for the
// binaries in Build). Errors name fields.
func (o Options) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		val  int
		min  int
	}{
		{"Flips", o.Flips, 50}, {"Handovers", o.Handovers, 50}, {"Commits", o.Commits, 1},
		{"ConcurrentClients", o.ConcurrentClients, 1}, {"CommitsPerClient", o.CommitsPerClient, 1},
		{"Fsyncs", o.Fsyncs, 1}, {"Demotes", o.Demotes, 1}, {"EtcdRounds", o.EtcdRounds, 5},
	} {
		if f.val < f.min {
			errs = append(errs, field.Errorf(f.name, "must be at least %d, got %d", f.min, f.val))
		}
	}
	for _, n := range o.Takeovers {
		if n < 1 {
			errs = append(errs, field.Errorf("Takeovers", "holds %d; counts must be > 0", n))
		}
	}
	if o.Deadline <= 0 {
		errs = append(errs, field.Errorf("Deadline", "must be > 0, got %s", o.Deadline))
	}
	if o.Swarm != sectionAuto && o.Swarm != sectionOff {
		errs = append(errs, field.Errorf("Swarm", "must be %q or %q, got %q", sectionAuto, sectionOff, o.Swarm))
	}
	if o.Etcd != sectionAuto && o.Etcd != sectionOff {
		errs = append(errs, field.Errorf("Etcd", "must be %q or %q, got %q", sectionAuto, sectionOff, o.Etcd))
	}
	for _, bin := range []string{binManager, binSim} {
		p := filepath.Join(o.Build, bin)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			errs = append(errs, field.Errorf("Build", "%s: %s is not an executable; run `make binaries` (BUILD=%s)", o.Build, p, o.Build))
		}
	}
	if o.Profile != profileAuto && o.Profile != profileAlways && o.Profile != profileOff {
		errs = append(errs, field.Errorf("Profile", "must be %q, %q or %q, got %q",
			profileAuto, profileAlways, profileOff, o.Profile))
	}
	known := []string{"commits", "flips", "handovers", "takeovers", "forward", "swarm", "etcd", "scale", "etcdscale", "oscurve", "swarmcurve", "profile"}
	for _, s := range o.Sections {
		if !slices.Contains(known, s) {
			errs = append(errs, field.Errorf("Sections", "holds unknown section %q (known: %s)", s, strings.Join(known, ", ")))
		}
	}
	rows := []string{"idle", "resync", "commit", "frees", "phantom", "answer", "takeovers"}
	for _, r := range o.ScaleRows {
		if !slices.Contains(rows, r) {
			errs = append(errs, field.Errorf("ScaleRows", "holds unknown scale row %q (known: %s)", r, strings.Join(rows, ", ")))
		}
	}
	if len(o.Takeovers) == 0 {
		errs = append(errs, field.Errorf("Takeovers", "must not be empty"))
	}
	return errors.Join(errs...)
}
