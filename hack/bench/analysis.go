package main

import "fmt"

// causes explains, per goal, why it is missed when it is: what profiling
// found (file, function, why) and what remains. It holds no figure: the
// figures are the run's own (the in-process rows split them into parts).
// A goal met in the run shows no paragraph.
func causes() map[string]string {
	return map[string]string{
		measureCommit: "Cause, from the in-process profile and the timed parts row: a commit through the " +
			"manager is the client's hop to the manager, then a pretend CommitGroup round trip to the " +
			"downstream (controller/front.go, front.CommitGroup, which validates the spec with the plugin " +
			"before storing it, so an invalid spec is never stored), then sources.Update (FileStore.Load, then " +
			"FileStore.Save: flock, re-read and decode under the lock, temp file, fsync, rename, directory " +
			"fsync), then the real CommitGroup. The parts row sets each part beside the fsync probe taken at the " +
			"same time: the durable write is the budget's fsync, and the slack of 0.5 ms must hold the hop, the " +
			"pretend round trip (which costs about a direct commit on its own), the Load, and Save's flock, " +
			"re-read and decode. What remains: " +
			"the goal cannot be met while the pretend call is on the critical path; options for the " +
			"controller's owner are to skip it when the stored entry already holds the same spec, or to " +
			"validate locally and let the real commit's answer undo the store write. Concurrent clients are " +
			"bounded by one durable write at a time: front.save holds reconciler.storeMu across the whole " +
			"Update, so commits never share an fsync (no group commit).",
		measureGain:    contention,
		measureLoss:    contention,
		measureOverlap: contention + " A handover adds the two managers' independent reaction times.",
		measureGap:     contention + " A handover adds the two managers' independent reaction times.",
		takeoverMeasure(takeoverGoalGroups): "Cause: CPU, not waiting. The first commit waits for the sync to read the store " +
			"(sources.FileStore.Load decodes every entry in DecodeConfig, then controller.specsOf in " +
			"state.setDesired unmarshals every entry again); after that each group costs one CommitGroup RPC, " +
			"whose CPU (HTTP and JSON in both processes) is spent by the manager and by the simulator alike, as " +
			"the row's CPU figures show; together they need more CPU-seconds than two shared cores give within " +
			"the goal when other work runs (see the load average). One avoidable cost in the manager: " +
			"plugin/named.go NamedClient.resolve calls Dir.find, an os.Lstat of the plugin socket, on every " +
			"call. What remains: the verdict depends on the machine's load (runs at a lower load average met " +
			"it); to meet it under load, cut " +
			"per-call CPU (resolve the socket once and again only after a transport error; decode the store " +
			"once per load).",
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
		loadedCommitMeasure(takeoverGoalGroups): "Every commit costs in proportion to the number of stored groups: " +
			"front.save runs sources.Update, which decodes the whole config (FileStore.Load), copies it " +
			"(Config.Clone), encodes it (EncodeConfig, json.MarshalIndent), decodes it again under the lock " +
			"(FileStore.Save re-reads to check the version and corruption), and then controller.specsOf " +
			"unmarshals every entry once more in state.setDesired. The next row shows the memory this " +
			"churn leaves resident. Cheaper designs: skip Save's decode when the re-read hash equals the " +
			"expected version (it was decoded by the Load that produced it), and update the desired cache " +
			"for the one group written instead of re-decoding all.",
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
