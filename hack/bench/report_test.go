package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleRows() []row {
	return []row{
		goalRow("flip p99", "p99 3.00 ms", "p99 < 50.0 ms", true, "1.43-4.77 s"),
		goalRow(measureCommit, "p50 5.00 ms", "p50 within …", false, ""),
		goalRow("brand new goal", "7", "< 5", false, ""),
		infoRow("fsync", "p50 1.00 ms", ""),
		skipRow("swarm", "needs root", "", "13-24 s"),
		failRow("takeover", errors.New("boom\n  at line | two")),
	}
}

func TestAnalysisForMissedGoalsOnly(t *testing.T) {
	got := analysisFor(sampleRows())
	require.Len(t, got, 2)
	require.Contains(t, got[0], measureCommit)
	require.Contains(t, got[0], "Front.CommitGroup", "a known goal gets its recorded cause")
	require.Contains(t, got[1], "No cause recorded yet")
}

func TestEveryRecordedCauseNamesARealGoalRow(t *testing.T) {
	goals := []string{measureCommit, measureEmptyCommit, takeoverMeasure(takeoverGoalGroups),
		measureGain, measureLoss, measureOverlap, measureGap,
		throughputMeasure(16, takeoverGoalGroups), inspectMeasure(takeoverGoalGroups),
		etcdMeasureKill, etcdMeasureCut, etcdMeasureRaft, etcdMeasureTakeover,
		etcdCommitMeasure(etcdSmallStore), etcdCommitMeasure(takeoverGoalGroups)}
	for count := range loadedCommitGoals {
		goals = append(goals, loadedCommitMeasure(count))
	}
	for measure := range causes() {
		require.Contains(t, goals, measure)
	}
	for measure := range notes() {
		require.Equal(t, "commit latency, 16 clients, through the manager", measure)
	}
}

func TestAnalysisNotesPresentRows(t *testing.T) {
	got := analysisFor([]row{infoRow("commit latency, 16 clients, through the manager", "p50 9 ms", "")})
	require.Len(t, got, 1)
	require.Contains(t, got[0], "group commit")
	require.Empty(t, analysisFor([]row{infoRow("fsync", "p50 1.00 ms", "")}))
	got = analysisFor([]row{goalRow(loadedCommitMeasure(10000), "p50 15 ms", "p50 ≤ 8.00 ms", false, "")})
	require.Len(t, got, 1)
	require.Contains(t, got[0], "store-sized probe")
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, printTable(&b, sampleRows()))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 7, "header and one line per row")
	require.True(t, strings.HasPrefix(lines[0], "MEASURE"))
	require.Contains(t, lines[1], "MET")
	require.Contains(t, lines[2], "MISSED")
	require.Contains(t, lines[5], "skipped: needs root")
	require.Contains(t, lines[6], "failed: boom at line | two", "errors are put on one line")
}

func TestWriteMarkdown(t *testing.T) {
	rows := sampleRows()
	var table bytes.Buffer
	require.NoError(t, printTable(&table, rows))
	var b bytes.Buffer
	require.NoError(t, writeMarkdown(&b, report{
		Rows: rows, Command: "make bench", Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Took: 90 * time.Second, Table: table.String(), Analysis: analysisFor(rows),
		Conditions: []condition{{Section: "flips", Wall: 4200 * time.Millisecond, Load: "1.0 2.0 3.0", CPU: "35%", IO: "2%"}},
		Machine: machine{CPUs: 2, CPUModel: "AMD EPYC", MemTotal: "23.4 GiB", Kernel: "6.1", GoVersion: "go1.26",
			LoadStart: "1.00 2.00 3.00", LoadEnd: "4.00 5.00 6.00", StoreFS: "ext4 on /dev/vda"},
	}))
	md := b.String()
	for _, want := range []string{
		"| CPUs (nproc) | 2 |", "| CPU model | AMD EPYC |", "load average at start (1, 5, 15 min) | 1.00 2.00 3.00 |",
		"Command: `make bench`", "2026-01-02 03:04 UTC", "took 1m30s",
		"| flip p99 | p99 3.00 ms | p99 < 50.0 ms | MET | 1.43-4.77 s |",
		`boom at line \| two`, "## Missed goals and costs", "```\nMEASURE",
		"| flips | 4.2s | 1.0 2.0 3.0 | 35% | 2% |",
	} {
		require.Contains(t, md, want)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " | ") > 1 && strings.Contains(line, "boom") {
			require.Equal(t, 6, strings.Count(line, "|")-strings.Count(line, `\|`), "a pipe in a cell is escaped: %s", line)
		}
	}
}

func TestParseCounts(t *testing.T) {
	got, err := parseCounts("1, 100,1000")
	require.NoError(t, err)
	require.Equal(t, []int{1, 100, 1000}, got)
	for _, bad := range []string{"", "0", "x", "1,,2", "-5"} {
		_, err := parseCounts(bad)
		require.Error(t, err, bad)
	}
}

func TestOptionsValidate(t *testing.T) {
	build := t.TempDir()
	cases := []struct {
		name   string
		mutate func(*Options)
		err    string
	}{
		{"too few flips", func(o *Options) { o.Flips = 10 }, "Flips must be at least 50"},
		{"too few handovers", func(o *Options) { o.Handovers = 49 }, "Handovers must be at least 50"},
		{"bad swarm mode", func(o *Options) { o.Swarm = "maybe" }, `Swarm must be "auto" or "off"`},
		{"bad profile mode", func(o *Options) { o.Profile = "sometimes" }, "Profile must be"},
		{"zero takeover", func(o *Options) { o.Takeovers = []int{0} }, "Takeovers holds 0; counts must be > 0"},
		{"unknown section", func(o *Options) { o.Sections = []string{"flipz"} }, `Sections holds unknown section "flipz"`},
		{"no binaries", func(*Options) {}, "run `make binaries`"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Build = build
			c.mutate(&o)
			require.ErrorContains(t, o.Validate(), c.err)
		})
	}
}

func TestParsePSISome(t *testing.T) {
	got, err := parsePSISome("some avg10=13.46 avg60=39.70 avg300=47.01 total=1065379260\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
	require.NoError(t, err)
	require.Equal(t, 1065379260*time.Microsecond, got)
	_, err = parsePSISome("full avg10=0.00 total=5\n")
	require.Error(t, err)
	_, err = parsePSISome("some total=abc\n")
	require.Error(t, err)
}

func TestConditionSince(t *testing.T) {
	start := pressure{at: time.Now().Add(-time.Second), cpu: 0, io: 0, ok: false}
	c := conditionSince("x", "1 2 3", start)
	require.Equal(t, "unknown", c.CPU, "no reading at the start: no share")
	require.GreaterOrEqual(t, c.Wall, time.Second)
}
