package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Verdicts.
const (
	met     = "MET"
	missed  = "MISSED"
	skipped = "skipped"
	failed  = "FAILED"
)

// row is one line of the results table.
type row struct {
	Measure  string
	Figure   string
	Goal     string // "" when the row has no goal
	Verdict  string // met, missed, skipped, failed or ""
	Original string // the original InfraKit's figure, if one was measured
}

func goalRow(measure, figure, goal string, ok bool, original string) row {
	v := missed
	if ok {
		v = met
	}
	return row{Measure: measure, Figure: figure, Goal: goal, Verdict: v, Original: original}
}

func infoRow(measure, figure, original string) row {
	return row{Measure: measure, Figure: figure, Original: original}
}

func skipRow(measure, reason, goal, original string) row {
	return row{Measure: measure, Figure: "skipped: " + reason, Goal: goal, Verdict: skipped, Original: original}
}

func failRow(measure string, err error) row {
	return row{Measure: measure, Figure: "failed: " + oneLine(err.Error()), Verdict: failed}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printTable writes the rows as one aligned text table.
func printTable(w io.Writer, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tFIGURE\tGOAL\tVERDICT\tORIGINAL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Measure, r.Figure, dash(r.Goal), dash(r.Verdict), dash(r.Original))
	}
	return tw.Flush()
}

// report is everything the Markdown page shows.
type report struct {
	Rows     []row
	Machine  machine
	Command  string
	Started  time.Time
	Took     time.Duration
	Table    string   // the printed table, verbatim
	Analysis []string // paragraphs on missed goals and their causes
	// Conditions are the machine's load and stalls during each section.
	Conditions []condition
}

func mdCell(s string) string { return strings.ReplaceAll(dash(s), "|", `\|`) }

// writeMarkdown renders the report page.
func writeMarkdown(w io.Writer, r report) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (hack/bench.sh, harness in hack/bench) on %s; the run took %s. "+
		"Every figure below comes from that run: rerun `make bench` to refresh this page.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	p("## Machine\n\n")
	m := r.Machine
	p("| | |\n|---|---|\n")
	p("| CPUs (nproc) | %d |\n| CPU model | %s |\n| memory | %s |\n| kernel | %s |\n| Go | %s |\n",
		m.CPUs, mdCell(m.CPUModel), mdCell(m.MemTotal), mdCell(m.Kernel), mdCell(m.GoVersion))
	p("| store and leader file system | %s |\n", mdCell(m.StoreFS))
	if m.DockerInfo != "" {
		p("| Docker engine | %s |\n", mdCell(m.DockerInfo))
	}
	p("| load average at start (1, 5, 15 min) | %s |\n| load average at end | %s |\n\n", m.LoadStart, m.LoadEnd)
	p("The machine is shared: other work ran during the measurement, so the load average above is part of " +
		"every figure. Percentiles are nearest-rank; with n=100, p99 is the second-largest value.\n\n")
	p("Command: `%s`\n\n", r.Command)
	p("## Results\n\n")
	p("| measure | figure | goal | verdict | original InfraKit |\n|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		p("| %s | %s | %s | %s | %s |\n", mdCell(row.Measure), mdCell(row.Figure), mdCell(row.Goal),
			mdCell(row.Verdict), mdCell(row.Original))
	}
	if len(r.Conditions) > 0 {
		p("\n## Conditions during each section\n\n")
		p("CPU and I/O stall: the share of the section's wall time during which at least one task on the " +
			"machine (ours or anyone's) was runnable but waiting for a CPU, or waiting for I/O " +
			"(/proc/pressure, \"some\"). High values mean the figures of that section include waiting " +
			"for the machine.\n\n")
		p("| section | wall time | load average at start | CPU stall | I/O stall |\n|---|---|---|---|---|\n")
		for _, c := range r.Conditions {
			p("| %s | %s | %s | %s | %s |\n", c.Section, c.Wall.Round(100*time.Millisecond), c.Load, c.CPU, c.IO)
		}
	}
	p("\n## How each figure is taken\n\n")
	for _, line := range method {
		p("- %s\n", line)
	}
	if len(r.Analysis) > 0 {
		p("\n## Missed goals and costs: causes and what remains\n\n")
		for _, a := range r.Analysis {
			p("%s\n\n", a)
		}
	}
	p("\n## The run's output\n\n```\n%s```\n", r.Table)
	_, err := io.WriteString(w, b.String())
	return err
}

// method explains the measurements; it is fixed text, never a figure.
var method = []string{
	"All processes are the real binaries from the build directory, talking over unix sockets in short " +
		"temporary directories on the local file system. Times are the simulator's event time stamps " +
		"(`--events`: one JSON line per completed commit/free/destroy, stamped in the simulator) minus the " +
		"wall clock read just before the harness acted.",
	"Leader-file flip: one manager (`os --poll-interval 1s`, so the inotify path is what is measured, not the " +
		"poll) and its simulator; one stored group; the leader file is replaced (write a temp file, rename) with " +
		"the manager's name (gain: time to the simulator's commit) or another name (loss: time to its free), " +
		"with a random 5-25 ms pause between flips.",
	"Handover: managers `group` and `group2`, each with its own plugin directory and simulator, sharing the " +
		"leader file and the store directory; the leader file alternates between them. Per handover, from the " +
		"two event logs: overlap = old leader's free minus new leader's commit when positive (both ran the " +
		"group), gap = the reverse when positive (nobody ran it). Both series include the zeros of the " +
		"handovers of the other kind.",
	"Takeover: global.config holding N groups is written directly (sources.EncodeConfig, entries " +
		"{\"Plugin\":\"group-stateless\",\"Properties\":<whole spec>}); the manager starts as a follower, " +
		"then the leader file names it; the figure is the time to the last of the N distinct commits.",
	"Commit latency: Go clients (plugin.NewClient, one connection each), each re-committing one group of its own " +
		"(c00, c01, ...) with a new generation in its instance properties on every call, so every commit through the " +
		"manager changes the stored bytes and pays a real durable write. Direct commits go to a second, identical " +
		"simulator in the same plugin directory. Direct and managed batches alternate in 4 rounds, together with " +
		"the fsync probe (write a 4 KiB temp file, fsync, rename, fsync the directory: what the file store does).",
	"RSS: VmRSS from /proc/<pid>/status, 2 s after the manager started leading with no groups (idle) and 2 s " +
		"after the 10,000-group takeover completed; then 20 commits through that manager are timed and VmRSS and " +
		"VmHWM (peak) read again.",
	"Takeover CPU: utime+stime of the manager and the simulator processes (/proc/<pid>/stat) from the flip " +
		"to the last commit.",
	"Profile (only when a goal is missed, or with --profile always): the 10,000-group takeover and sequential " +
		"commits again with the controller in the harness's process under a CPU profile, the simulator still a " +
		"separate process; the store's Load/Save and the downstream's pretend and real CommitGroup are timed " +
		"through wrappers, which splits a commit's p50 into parts (\"rest\" is the client's hop, the server, " +
		"locks), beside an fsync probe taken at the same time. Profiles go to <build>/bench-profiles.",
	"Forward: three os-mode managers (m1 leads), each with its own simulator and `--listen tcp://127.0.0.1:PORT` " +
		"with mutual TLS (certificates from internal/certgen, as hack/certs makes them). One Go client (plugin." +
		"NewURLClient, client certificate \"cli\") re-commits one group with rising generations, alternating 4 " +
		"rounds through the leader's port and through m2's port (forwarded to m1): the overhead is the difference " +
		"of the two p50s, same run. Handover: 4 clients send 200 commits of new groups through m3 while the leader " +
		"file moves from m1 to m2 after the 50th answer; errors are failed calls, duplicates groups applied twice " +
		"(the new leader's simulator describes other than the one instance each spec asks for), lost are " +
		"acknowledged groups missing from global.config; resent are commits the old leader stored but did not " +
		"apply that the follower sent to the new leader too (their \"stored group\" line is in two logs).",
	"Swarm: hack/swarm-lab.sh up 3 (one engine per node in a private network namespace), one " +
		"`infrakit-manager swarm` and one simulator per node; each round demotes the leader's node " +
		"(swarm-lab.sh demote, timed from the start of that command, which first looks up the node), waits for " +
		"the new leader's simulator to log the commit, then promotes the node back and waits for the lab. The " +
		"second swarm row times the same commit from the demote command's return instead.",
	"etcd: hack/etcd-lab.sh up 3 under the run's directory (taken down at the end). Fault rounds: three " +
		"`infrakit-manager etcd` (default --lease-duration) with a simulator each, every manager reaching each member " +
		"through a TCP proxy of its own in the harness. Kill: kill -9 of the election holder's manager, timed to " +
		"another simulator's commit of the group, then the killed manager is restarted. Cut off: the holder's proxies " +
		"stop moving bytes (connections stay open); its free and the new leader's commit are read from the event logs. " +
		"Raft leader: kill -9 of the member etcd-lab.sh names leader while a commit is started through every manager " +
		"every 50 ms (each its own connection and deadline); service is back at the first that succeeds; the member " +
		"is restarted and the round judged one lease plus 1 s after the kill (holder unchanged, no free by the " +
		"leader, no commit by another). Delay: the holder's proxies deliver every frame 0.6 s late each way (its " +
		"renewals miss --etcd-timeout); its free and the new leader's commit are read from the event logs. " +
		"Commits: groups imported with `infrakit-manager etcd import` onto two " +
		"prefixes (10 and 10,000), one leading manager each, batches alternating as in the commit section, the " +
		"managers' CPU time read around the batches. Takeover: SIGTERM of the 10,000-group leader run with " +
		"--on-stop keep (its lease is revoked at once) to a following manager's last commit. Handover: that " +
		"manager restarted with the default --on-stop free and its downstream freed, then SIGTERM of the new " +
		"leader: its last free and the other's first and last commits. The split rows time the store's parts in the harness's " +
		"process (unfenced etcd.Store), and with --profile always or a missed commit goal, an in-process controller " +
		"on the same prefixes splits a commit and writes etcd-commit-N.pprof.",
}
