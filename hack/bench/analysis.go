package main

import "fmt"

// causes explains, per goal, why it is missed when it is: what profiling
// found (file, function, why) and what remains. It holds no figure: the
// figures are the run's own (the in-process rows split them into parts).
// A goal met in the run shows no paragraph.
func causes() map[string]string {
	return map[string]string{
		measureCommit: "Cause, from the in-process profile and the timed parts row: a commit through the " +
			"manager is the client's hop to the manager, a pretend CommitGroup round trip to the downstream " +
			"(controller/front.go, front.CommitGroup: the spec is validated by the plugin before it is stored, " +
			"so an invalid spec is never stored; this is required behaviour), the durable save " +
			"(sources.FileStore.Save: flock, re-read of the current bytes to check the version, temp file, " +
			"fsync, rename, directory fsync), then the real CommitGroup. Already done: saves go against the " +
			"config the manager last loaded or wrote (no load per commit), the re-read is not decoded when it " +
			"is the version this store wrote, and concurrent commits are batched into one save (group commit, " +
			"controller/batch.go), which is what the 16-client rows show. What remains: the goal's 0.5 ms of " +
			"slack over one fsync must hold both the client's hop and the pretend round trip, each about a " +
			"direct commit on its own, so it is missed by design while validation precedes the write; " +
			"overlapping the pretend call with the temp-file write and fsync (rename only once the plugin " +
			"said yes) would recover about one round trip and needs a two-phase store API.",
		measureGain:    contention,
		measureLoss:    contention,
		measureOverlap: contention + " A handover adds the two managers' independent reaction times.",
		measureGap:     contention + " A handover adds the two managers' independent reaction times.",
		takeoverMeasure(takeoverGoalGroups): "Cause: CPU, not waiting. The first commit waits for the sync " +
			"to read the store (sources.FileStore.Load decodes every entry, then controller.specsOf unmarshals " +
			"every spec); after that each group costs one CommitGroup RPC, whose CPU (HTTP and JSON in both " +
			"processes) is spent by the manager and the simulator alike, as the row's CPU figures show. " +
			"Already done: the late-binding client no longer stats the plugin socket on every call " +
			"(plugin/named.go trusts a lookup for 100 ms and checks the socket's identity when it dials). " +
			"What remains: the verdict depends on the machine's load; on two shared cores the two processes " +
			"need about 2.3 CPU-seconds for 10,000 groups.",
	}
}

// contention explains a missed latency goal whose path has no disk write
// and no per-group work: one small file read and one or two RPCs.
const contention = "No cause in the manager was found. The path is: inotify event on the leader file's " +
	"directory, a 2 ms settle (sources/file_leader_watch.go, leaderEventSettle), one read of the leader file, " +
	"the sync's store Load and downstream InspectGroups (controller/loop.go, reconciler.sync), then one " +
	"CommitGroup or FreeGroup by a worker; the manager writes nothing to disk on the way. Other runs on this machine met the goal, " +
	"and saturating both cores with busy loops did not push the p99 past it; compare this section's CPU and " +
	"I/O stall in the conditions table with the other runs'. What remains: a tail taken while the shared " +
	"machine stalls; rerun `make bench` on a quiet machine before reading it as a regression."

// notes explain rows that have no goal but show a cost worth knowing,
// whenever the row is present.
func notes() map[string]string {
	return map[string]string{
		loadedCommitMeasure(takeoverGoalGroups): "Every commit costs in proportion to the number of " +
			"stored groups, because the original's format is one file holding every group: each save " +
			"re-encodes the whole config (EncodeConfig, json.MarshalIndent re-indents every spec) and writes " +
			"and fsyncs it. Already done: no load or decode per commit (the cached config is saved against " +
			"its version; only the written group's spec is decoded into the desired cache), and concurrent " +
			"commits share one save. What remains is the encode and the write of the whole file.",
	}
}

// analysisFor returns a paragraph for every missed goal of rows, and for
// every row with a note.
func analysisFor(rows []row) []string {
	var out []string
	for _, r := range rows {
		if note, ok := notes()[r.Measure]; ok {
			out = append(out, fmt.Sprintf("**%s** (%s). %s", r.Measure, r.Figure, note))
		}
		if r.Verdict != missed {
			continue
		}
		why, ok := causes()[r.Measure]
		if !ok {
			why = "No cause recorded yet: profile it (hack/bench.sh --profile always) and record it in hack/bench/analysis.go."
		}
		out = append(out, fmt.Sprintf("**%s** (%s; goal %s). %s", r.Measure, r.Figure, r.Goal, why))
	}
	return out
}
