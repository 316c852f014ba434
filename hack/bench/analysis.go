package main

import (
	"fmt"
	"strings"
)

// Measures that have a goal, as the rows name them.
const (
	measureCommit   = "commit latency, 1 client, through the manager"
	measureTakeover = "takeover of 10000 stored groups (rename to last commit)"
)

// causes explains, per goal, why it is missed when it is: what profiling
// found (file, function, why) and what remains. It holds no figure: the
// figures are the run's own (the in-process rows split them into parts).
// A goal met in the run shows no paragraph.
var causes = map[string]string{
	measureCommit: "Cause, from the in-process profile and the timed parts row: a commit through the " +
		"manager is the client's hop to the manager, then a pretend CommitGroup round trip to the " +
		"downstream (controller/front.go, front.CommitGroup, which validates the spec with the plugin " +
		"before storing it, so an invalid spec is never stored), then sources.Update (FileStore.Load, then " +
		"FileStore.Save: flock, re-read and decode under the lock, temp file, fsync, rename, directory " +
		"fsync), then the real CommitGroup. The Save costs about the fsync probe; what exceeds the 0.5 ms " +
		"slack is the pretend round trip (about one direct commit on its own) plus the hop. What remains: " +
		"the goal cannot be met while the pretend call is on the critical path; options for the " +
		"controller's owner are to skip it when the stored entry already holds the same spec, or to " +
		"validate locally and let the real commit's answer undo the store write. Concurrent clients are " +
		"bounded by one durable write at a time: front.save holds reconciler.storeMu across the whole " +
		"Update, so commits never share an fsync (no group commit).",
	measureTakeover: "Cause: CPU, not waiting. The first commit waits for the sync to read the store " +
		"(sources.FileStore.Load decodes every entry in DecodeConfig, then controller.specsOf in " +
		"state.setDesired unmarshals every entry again); after that each group costs one CommitGroup RPC, " +
		"whose CPU (HTTP and JSON in both processes) is spent by the manager and by the simulator alike, as " +
		"the row's CPU figures show; together they need more CPU-seconds than two shared cores give within " +
		"the goal when other work runs (see the load average). One avoidable cost in the manager: " +
		"plugin/named.go NamedClient.resolve calls Dir.find, an os.Lstat of the plugin socket, on every " +
		"call. What remains: on an idle machine the same run meets the goal; to meet it under load, cut " +
		"per-call CPU (resolve the socket once and again only after a transport error; decode the store " +
		"once per load).",
}

// analysisFor returns a paragraph for every missed goal of rows.
func analysisFor(rows []row) []string {
	var out []string
	for _, r := range rows {
		if r.Verdict != missed {
			continue
		}
		why, ok := causes[r.Measure]
		if !ok {
			why = "No cause recorded yet: profile it (hack/bench.sh --profile always) and record it in hack/bench/analysis.go."
		}
		out = append(out, fmt.Sprintf("**%s** (%s; goal %s). %s", r.Measure, r.Figure, r.Goal, why))
	}
	return out
}

// hasPrefix reports whether any row's measure starts with prefix.
func hasPrefix(rows []row, prefix string) bool {
	for _, r := range rows {
		if strings.HasPrefix(r.Measure, prefix) {
			return true
		}
	}
	return false
}
