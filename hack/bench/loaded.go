package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

// Goals of issue 10: commit cost that does not grow with the stored groups.
const (
	// emptyCommitGoal: p50 of a commit, 1 client, (nearly) empty store.
	emptyCommitGoal = 1800 * time.Microsecond
	// loadedThroughputGoal: commits per second, 16 clients, 10,000 stored.
	loadedThroughputGoal = 1000.0
	// inspectGoal: p50 of InspectGroups with 10,000 groups stored.
	inspectGoal = 5 * time.Millisecond
	// inspectCalls is the number of InspectGroups calls timed.
	inspectCalls = 20
	// loadedProbes is the number of store-sized fsync probes.
	loadedProbes = 20
)

// loadedCommitGoals is the p50 goal of a 1-client commit by stored groups;
// each count here gets its commit rows after its takeover.
var loadedCommitGoals = map[int]time.Duration{
	1000:  2500 * time.Microsecond,
	10000: 8 * time.Millisecond,
}

// loadedCommitCount is how many commits are timed with count groups stored.
func loadedCommitCount(count int) int {
	if count >= 10000 {
		return 50
	}
	return 100
}

// measureEmptyCommit names the absolute goal row of the commits section.
const measureEmptyCommit = "commit latency, 1 client, through the manager, nearly empty store (the clients' 16 groups)"

// throughputMeasure and inspectMeasure name the rows at count stored groups.
func throughputMeasure(clients, count int) string {
	return fmt.Sprintf("commit throughput, %d clients, through the manager holding %d groups", clients, count)
}

func inspectMeasure(count int) string {
	return fmt.Sprintf("InspectGroups latency, 1 client, through the manager holding %d groups", count)
}

// loaded measures, after the takeover of count groups by n, the commit
// latency of one client against its goal and, at the largest count, the
// throughput of concurrent clients and InspectGroups latency.
func (h *harness) loaded(ctx context.Context, c *osCluster, n *osNode, count int, largest bool) ([]row, error) {
	goal, ok := loadedCommitGoals[count]
	if !ok && !largest {
		return nil, nil
	}
	sock := filepath.Join(n.pluginDir, n.name)
	var rows []row
	run, err := h.commitBatch(ctx, sock, 1, loadedCommitCount(count), 1)
	if err != nil {
		return nil, err
	}
	// The floor under such a commit: one durable replacement of a file of
	// the store's size, on the same disk, right after.
	size, probes, err := storeProbe(c, loadedProbes)
	if err != nil {
		return nil, err
	}
	rows = append(rows, infoRow(fmt.Sprintf("store disk: write+fsync+rename+dir-fsync of %s, the size of the %d-group store",
		mib(size), count), summarize(probes).percentiles(), ""))
	s := summarize(run.lat)
	if ok {
		rows = append(rows, goalRow(loadedCommitMeasure(count), s.percentiles(), "p50 ≤ "+ms(goal), s.P50 <= goal, ""))
	} else {
		rows = append(rows, infoRow(loadedCommitMeasure(count), s.percentiles(), ""))
	}
	if !largest {
		return rows, nil
	}
	k := h.opts.ConcurrentClients
	many, err := h.commitBatch(ctx, sock, k, h.opts.CommitsPerClient, 1000)
	if err != nil {
		return nil, err
	}
	rate := many.perSecond()
	figure := fmt.Sprintf("%.0f/s; latency %s", rate, summarize(many.lat).percentiles())
	if count == takeoverGoalGroups && k == 16 {
		rows = append(rows, goalRow(throughputMeasure(k, count), figure, fmt.Sprintf("≥ %.0f/s", loadedThroughputGoal),
			rate >= loadedThroughputGoal, ""))
	} else {
		rows = append(rows, infoRow(throughputMeasure(k, count), figure, ""))
	}
	lat, err := inspectLatency(ctx, sock, count)
	if err != nil {
		return nil, err
	}
	si := summarize(lat)
	if count == takeoverGoalGroups {
		rows = append(rows, goalRow(inspectMeasure(count), si.percentiles(), "p50 ≤ "+ms(inspectGoal), si.P50 <= inspectGoal, ""))
	} else {
		rows = append(rows, infoRow(inspectMeasure(count), si.percentiles(), ""))
	}
	return rows, nil
}

// inspectLatency times InspectGroups calls on one connection, checking that
// each answers at least count groups.
func inspectLatency(ctx context.Context, sock string, count int) ([]time.Duration, error) {
	cl := plugin.NewClient(sock, plugin.ClientOptions{Timeout: clientTimeout})
	defer cl.Close()
	if _, err := cl.InspectGroups(ctx); err != nil { // warm the connection
		return nil, fmt.Errorf("inspect groups: %w", err)
	}
	out := make([]time.Duration, 0, inspectCalls)
	for range inspectCalls {
		t := time.Now()
		specs, err := cl.InspectGroups(ctx)
		if err != nil {
			return nil, fmt.Errorf("inspect groups: %w", err)
		}
		out = append(out, time.Since(t))
		if len(specs) < count {
			return nil, fmt.Errorf("inspect groups answered %d groups, %d are stored", len(specs), count)
		}
	}
	return out, nil
}
