package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/infrakit-manager/manager/internal/labscript"
	"github.com/infrakit-manager/manager/plugin"
)

const (
	// swarmNodes is the lab's number of managers.
	swarmNodes = 3
	// swarmGroup is the group committed before the demotes.
	swarmGroup = "sw"
	// swarmMinTime is the least time left in the run for the swarm section
	// to start (lab up, rounds, lab down).
	swarmMinTime = 3 * time.Minute
	// swarmGapGoal: a fenced swarm handover's gap, at most the lease (2 s,
	// swarm's default) + 0.5 s.
	swarmGapGoal = 2500 * time.Millisecond
	// swarmEventWait bounds the wait for the new leader's commit.
	swarmEventWait = 60 * time.Second
)

// swarmMeasure names the swarm row; swarmOrig is the figure beside it.
const (
	swarmMeasure = "swarm: demote the leader's node to the new leader's commit (from the start of swarm-lab.sh demote)"
	swarmOrig    = "client-go leader election, defaults: 13-24 s after a crash"
)

// swarmSkip returns why the swarm section cannot run here, or "".
func (h *harness) swarmSkip(ctx context.Context) string {
	if h.opts.Swarm == sectionOff {
		return "disabled (--swarm off)"
	}
	if os.Geteuid() != 0 {
		return "needs root to start Docker engines"
	}
	for _, tool := range []string{"dockerd", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not installed (make swarm-lab-install)"
		}
	}
	if _, err := os.Stat(h.opts.SwarmLab); err != nil {
		return fmt.Sprintf("swarm lab script: %v", err)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < swarmMinTime {
		return fmt.Sprintf("less than %s left of the run's time limit", swarmMinTime)
	}
	return ""
}

// lab runs a lab script (swarm-lab.sh, etcd-lab.sh) with this run's
// environment (LAB, NETNS), through the runner the tests use.
type lab struct {
	labscript.Script
	n int // nodes or members, for checking the script's answers
}

// run runs one verb and returns its trimmed answer.
func (l lab) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	out, err := l.Run(ctx, timeout, args...)
	return strings.TrimSpace(out), err
}

// leader returns the index the script's "leader" verb answers (the Raft
// leader's node or member).
func (l lab) leader(ctx context.Context) (int, error) {
	out, err := l.run(ctx, 30*time.Second, "leader")
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(out)
	if err != nil || i < 1 || i > l.n {
		return 0, fmt.Errorf("%s leader answered %q", filepath.Base(l.Path), out)
	}
	return i, nil
}

// swarm: a 3-manager lab, one swarm-mode manager and one simulator per
// node. Each round demotes the leader's node and times the new leader's
// commit from the start of the demote command; then the node is promoted
// back and the lab waited for.
func (h *harness) swarm(ctx context.Context) ([]row, error) {
	script, err := filepath.Abs(h.opts.SwarmLab)
	if err != nil {
		return nil, err
	}
	labDir := filepath.Join(h.root, "lab")
	l := lab{Script: labscript.Script{Path: script, Env: []string{"LAB=" + labDir, fmt.Sprintf("NETNS=ikb-%d", os.Getpid())}}, n: swarmNodes}
	defer func() {
		// Down even when ctx is done: the lab must not outlive the run.
		if _, err := l.run(context.Background(), 2*time.Minute, "down"); err != nil {
			h.log.Error(err, "swarm lab down failed", "path", labDir)
		}
	}()
	h.log.Info("starting swarm lab", "nodes", swarmNodes)
	upStart := time.Now()
	if _, err := l.run(ctx, 4*time.Minute, "up", strconv.Itoa(swarmNodes)); err != nil {
		return nil, err
	}
	h.log.Info("swarm lab up", "took", ms(time.Since(upStart)))

	var rows []row
	for _, mode := range []string{"fenced", "fast"} {
		r, err := h.swarmRounds(ctx, l, mode)
		if err != nil {
			rows = append(rows, failRow(fmt.Sprintf("swarm demotes (--handover %s)", mode), err))
			continue
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// swarmRounds starts a simulator and a manager with --handover mode on
// every node (in directories of their own), commits one group and makes
// opts.Demotes demote rounds: each demotes the leader's node, times the new
// leader's commit and compares it with the old leader's free (overlap,
// gap), then promotes the node back and waits for the lab.
func (h *harness) swarmRounds(ctx context.Context, l lab, mode string) ([]row, error) {
	nodes := make([]*osNode, swarmNodes+1) // 1-based, as the lab's indexes
	for i := 1; i <= swarmNodes; i++ {
		host, err := l.run(ctx, 10*time.Second, "host", strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		n := &osNode{name: "group", pluginDir: filepath.Join(h.root, fmt.Sprintf("sw-%s-%d", mode, i))}
		if err := os.MkdirAll(n.pluginDir, 0o700); err != nil {
			return nil, err
		}
		n.events = &tailer{path: filepath.Join(n.pluginDir, "events")}
		if n.sim, err = h.startSim(ctx, n.pluginDir, downstream, "--events", n.events.path); err != nil {
			return nil, err
		}
		defer n.stop()
		n.mgr, err = h.startProcess(ctx, filepath.Join(n.pluginDir, n.name), h.bin(binManager),
			"--name", n.name, "--plugin-dir", n.pluginDir, "swarm", "--host", host, "--handover", mode)
		if err != nil {
			return nil, err
		}
		nodes[i] = n
	}

	lead, err := l.leader(ctx)
	if err != nil {
		return nil, err
	}
	since := time.Now().UnixNano()
	if err := commitWhenLeading(ctx, filepath.Join(nodes[lead].pluginDir, "group"), swarmGroup); err != nil {
		return nil, err
	}
	if _, err := nodes[lead].events.waitFirst(ctx, match{since: since, op: "commit", group: swarmGroup}, swarmEventWait); err != nil {
		return nil, err
	}

	var toCommit, afterReturn, freeToCommit []time.Duration
	for round := range h.opts.Demotes {
		if lead, err = l.leader(ctx); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if _, err := l.run(ctx, time.Minute, "demote", strconv.Itoa(lead)); err != nil {
			return nil, err
		}
		returned := time.Now()
		others := make([]*tailer, 0, swarmNodes-1)
		for i := 1; i <= swarmNodes; i++ {
			if i != lead {
				others = append(others, nodes[i].events)
			}
		}
		committed, err := waitAny(ctx, others, match{since: t0.UnixNano(), op: "commit", group: swarmGroup}, swarmEventWait)
		if err != nil {
			return nil, fmt.Errorf("demote round %d: %w", round+1, err)
		}
		toCommit = append(toCommit, time.Duration(committed-t0.UnixNano()))
		afterReturn = append(afterReturn, time.Duration(committed-returned.UnixNano()))
		if freed, err := nodes[lead].events.waitFirst(ctx, match{since: t0.UnixNano(), op: "free", group: swarmGroup}, swarmEventWait); err == nil {
			freeToCommit = append(freeToCommit, time.Duration(committed-freed))
		}
		h.log.Info("demote round done", "round", round+1, "toCommit", ms(toCommit[len(toCommit)-1]))
		if err := promote(ctx, l, lead); err != nil {
			return nil, err
		}
		if _, err := l.run(ctx, 3*time.Minute, "wait", strconv.Itoa(swarmNodes), "120"); err != nil {
			return nil, err
		}
	}
	tc, ar, fc := summarize(toCommit), summarize(afterReturn), summarize(freeToCommit)
	var gaps, overlaps []time.Duration
	for _, d := range freeToCommit {
		if d < 0 {
			overlaps = append(overlaps, -d)
		} else {
			gaps = append(gaps, d)
		}
	}
	o, g := summarize(overlaps), summarize(gaps)
	overlap := fmt.Sprintf("%d of %d demotes", len(overlaps), len(freeToCommit))
	if len(overlaps) > 0 {
		overlap += ", up to " + ms(o.Max)
	}
	gap := fmt.Sprintf("p50 %s, max %s (n=%d)", ms(g.P50), ms(g.Max), g.N)
	prefix := fmt.Sprintf("swarm demote (--handover %s): ", mode)
	if mode == "fenced" {
		return []row{
			goalRow(prefix+"overlap (both ran the group)", overlap, fmt.Sprintf("0 in %d", len(freeToCommit)),
				len(overlaps) == 0 && len(freeToCommit) == h.opts.Demotes, ""),
			goalRow(prefix+"gap (nobody ran the group)", gap, "<= lease + 0.5 s ("+ms(swarmGapGoal)+")",
				g.N > 0 && g.Max <= swarmGapGoal, ""),
			infoRow(prefix+"demote to the new leader's commit (from the start of swarm-lab.sh demote)",
				fmt.Sprintf("p50 %s, max %s (n=%d)", ms(tc.P50), ms(tc.Max), tc.N), swarmOrig),
			infoRow(prefix+"the same, timed from the demote command's return", signedSummary(ar), ""),
		}, nil
	}
	return []row{
		infoRow(prefix+"overlap (both ran the group), for comparison", overlap, ""),
		infoRow(prefix+"gap (nobody ran the group), for comparison", gap, ""),
		infoRow(prefix+"old leader's free to new leader's commit (negative: overlap)", signedSummary(fc), ""),
		infoRow(swarmMeasure+" (--handover fast)", fmt.Sprintf("p50 %s, max %s (n=%d)", ms(tc.P50), ms(tc.Max), tc.N), swarmOrig),
	}, nil
}

// promote promotes node i back, trying again a few times: a 20.10 engine
// sometimes answers "update out of sequence" while the last demote settles.
func promote(ctx context.Context, l lab, i int) error {
	var err error
	for range 5 {
		if _, err = l.run(ctx, time.Minute, "promote", strconv.Itoa(i)); err == nil || !strings.Contains(err.Error(), "out of sequence") {
			return err
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	return err
}

// signedSummary renders p50, min and max of durations that may be negative.
func signedSummary(s summary) string {
	return fmt.Sprintf("p50 %s, min %s, max %s (n=%d)", signedMs(s.P50), signedMs(s.Min), signedMs(s.Max), s.N)
}

// signedMs renders a duration that may be negative.
func signedMs(d time.Duration) string {
	if d < 0 {
		return "-" + ms(-d)
	}
	return ms(d)
}

// commitWhenLeading commits group id through the manager at socket,
// retrying while it answers that it does not lead yet.
func commitWhenLeading(ctx context.Context, socket, id string) error {
	cl := plugin.NewClient(socket, plugin.ClientOptions{Timeout: clientTimeout})
	defer cl.Close()
	deadline := time.Now().Add(swarmEventWait)
	for {
		_, err := cl.CommitGroup(ctx, groupSpec(id, 1), false)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("commit %s through the leader's manager: %w", id, err)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitAny waits for the first event matching m in any of the logs.
func waitAny(ctx context.Context, logs []*tailer, m match, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, t := range logs {
			if at, err := t.waitFirst(ctx, m, 0); err == nil {
				return at, nil
			} else if !errors.Is(err, errTimeout) {
				return 0, err
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s of %q in any of %d logs: %w after %s", m.op, m.group, len(logs), errTimeout, timeout)
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return 0, err
		}
	}
}
