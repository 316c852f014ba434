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
			"(controller/front/front.go, front.Front.CommitGroup: the spec is validated by the plugin before it is stored, " +
			"so an invalid spec is never stored; this is required behaviour), the durable save " +
			"(file.Store.Save: temp file, fsync, then under flock one stat to check the version, rename, " +
			"directory fsync), then the real CommitGroup. Already done: saves go against the " +
			"config the manager last loaded or wrote (no load per commit), the version check reads nothing " +
			"while the file is unchanged, and concurrent commits are batched into one save (group commit, " +
			"controller/reconciler/batch_save.go), which is what the 16-client rows show. What remains: the goal's 0.5 ms of " +
			"slack over one fsync must hold both the client's hop and the pretend round trip, each about a " +
			"direct commit on its own, so it is missed by design while validation precedes the write; " +
			"overlapping the pretend call with the temp-file write and fsync (rename only once the plugin " +
			"said yes) would recover about one round trip: the store side exists (sources.Stager, Prepare " +
			"then Commit); the controller's use of it is in controller/reconciler/batch_save.go.",
		measureGain: contention,
		measureLoss: contention,
		measureOverlap: "With --handover fenced an overlap means the gate let a new leader act before the old " +
			"one released (controller/reconciler/handover.go, sources/file/handover.go): a bug, not load.",
		measureGap: contention + " A fenced handover adds, in sequence, the old leader's free, its " +
			"InspectGroups that finds nothing left, the release write (temp file, fsync, rename, directory " +
			"fsync) and the new leader's next 5 ms poll of the record.",
		takeoverMeasure(takeoverGoalGroups): "Cause: CPU, not waiting. The first commit waits for the sync " +
			"to read the store: file.Store.Load decodes every entry of a file it did not write and " +
			"encodes each group once (the kept encodings that later saves reuse; go test -bench " +
			"FileStoreLoadChanged ./sources/file), then reconciler.specsOf (controller/reconciler) unmarshals every spec; after that each " +
			"group costs one CommitGroup RPC, whose CPU (HTTP and JSON in both processes) is spent by the " +
			"manager and the simulator alike, as the row's CPU figures show. Already done: the late-binding " +
			"client no longer stats the plugin socket on every call (plugin/named.go). What remains: the " +
			"controller's per-group cost (controller/, being reshaped); the verdict also depends on the " +
			"machine's load: the two processes share two cores.",
		measureEmptyCommit: "Cause, from the in-process parts row: the commit is the client's hop, the " +
			"pretend CommitGroup round trip (validation before storing, required), the durable save (its " +
			"floor is the 4 KiB fsync probe: write, fsync, rename, directory fsync) and the real CommitGroup, " +
			"one after the other. Already done in sources: a save costs one stat to check the version (no " +
			"re-read), encodes only the changed group, and can run in two phases (sources.Stager: Prepare " +
			"writes and fsyncs the temp file, Commit renames it) so that the fsync overlaps the pretend " +
			"round trip. What remains: the controller calling Prepare beside the pretend CommitGroup " +
			"(controller/reconciler/batch_save.go, the lead's rewrite); the floor is then one fsync plus the two RPCs.",
		loadedCommitMeasure(1000):  storeSizeCause,
		loadedCommitMeasure(10000): storeSizeCause,
		throughputMeasure(16, takeoverGoalGroups): "Cause: every save is a durable write of the whole " +
			"file (the store-sized probe row), so the rate is the commits batched into one save (group " +
			"commit, controller/reconciler/batch_save.go) divided by the time of one save. Already done: a save encodes only " +
			"the changed groups and writes the kept encodings from one reused buffer. What remains: larger " +
			"batches (the controller queues a write only after its pretend call; with the two-phase save the " +
			"next batch's temp file can be written while the previous one commits), in controller/.",
		etcdCommitMeasure(takeoverGoalGroups): "Cause, from the in-process profile (etcd-commit-N.pprof, " +
			"--profile always) and the split rows: a commit's cost beyond the 10-group figure is CPU in the manager, " +
			"not etcd (the Txn costs the same at both sizes). Until SaveChanged, etcd.Store.Save compared every " +
			"group of the config with its cache (75% of the profile: map lookups, byte compares); the whole-config " +
			"split row still shows that diff. Already done: the controller tells a sources.ChangeSaver which groups " +
			"a batch changed (controller/reconciler/batch_save.go saveDelta) and the etcd store compares only those " +
			"(sources/etcd/store.go diffOnly). What remains per commit is O(stored groups) in the controller: the " +
			"copy of its cached config (controller/reconciler/batch.go build, maps.Clone; the split row's copy figure) and the " +
			"garbage it makes; on a loaded machine that and the scheduling of two cores shared by three etcd " +
			"members, the managers and the simulators decide the verdict: compare the manager CPU per commit.",
		etcdMeasureRaft: "Cause, from the managers' logs of the rounds that missed (kept with --keep): while etcd " +
			"elects a new Raft leader (the lab's election timeout is 1 s) and the client moves to another member, the " +
			"leader's lease renewals fail (sources/etcd/campaign.go keepAlive: one KeepAliveOnce every TTL/3, each " +
			"bounded by --etcd-timeout, retried every 250 ms). Its local lease deadline (last answered renewal + TTL " +
			"- SafetyMargin, TTL/5) then passes: the log shows \"leadership unknown\" and \"leadership changed ... " +
			"etcd lease deadline passed\", the manager frees its groups (the safe side: no other manager committed, so " +
			"no double commit) and leads again once a renewal is answered; in another run the client library's " +
			"session ended (\"session lease no longer renewed\") and the lease was revoked, so leadership moved. " +
			"What remains, in sources/etcd (leadership, not measured further here): renewing more often or with a " +
			"shorter per-call deadline so that one Raft election fits inside the margin, and finding why the client " +
			"library's session keep-alive (concurrency.Session) gave up in that run.",
		inspectMeasure(takeoverGoalGroups): "Cause: not the store. file.Store.Load answers from " +
			"memory while the file is unchanged (one stat and a copy of the groups map; go test -bench " +
			"FileStoreLoad ./sources/file). The time is InspectGroups (controller/reconciler, Stored): specsOf unmarshals " +
			"all stored specs on every call, then the answer (every spec) is encoded as JSON. What remains: " +
			"the controller keeping the decoded specs per store version (controller/, the lead's rewrite).",
	}
}

// contention explains a missed latency goal whose path has no disk write
// and no per-group work: one small file read and one or two RPCs.
const contention = "No cause in the manager was found. The path is: inotify event on the leader file's " +
	"directory, a 2 ms settle (sources/file/leadership_watch.go, leaderEventSettle), one read of the leader file, " +
	"the sync's store Load and downstream InspectGroups (controller/reconciler/loop.go, Reconciler.sync), then one " +
	"CommitGroup or FreeGroup by a worker; the manager writes nothing to disk on the way. Other runs on this machine met the goal, " +
	"and saturating both cores with busy loops did not push the p99 past it; compare this section's CPU and " +
	"I/O stall in the conditions table with the other runs'. What remains: a tail taken while the shared " +
	"machine stalls; rerun `make bench` on a quiet machine before reading it as a regression."

// storeSizeCause explains the commit goals with many groups stored.
const storeSizeCause = "Cause: the write of the whole file. The original's format is one file holding " +
	"every group, and a person or the original manager must be able to read it after every acknowledged " +
	"write (no journal), so every save writes and fsyncs all of it: compare the store-sized probe row " +
	"just above, the durable replacement of a file of this size on this disk. Beyond that probe, a save " +
	"walks every stored group to find the changed ones and copies the kept encodings into one buffer " +
	"before the write, and the controller copies its map of groups per batch; go test -bench " +
	"'FileStoreSave|DurableReplace' ./sources/file splits the store's part (prepare: find, assemble, write, " +
	"fsync; commit: lock, stat, rename, directory fsync). Already done: a save encodes only the changed " +
	"group and assembles the file from kept encodings (byte-identical to EncodeConfig), checks the " +
	"version with one stat instead of a re-read, and no load or decode happens per commit. What remains " +
	"is that write, which no change inside the format removes; the two-phase save (sources.Stager) lets " +
	"the controller overlap it with the pretend round trip."

// notes explain rows that have no goal but show a cost worth knowing,
// whenever the row is present.
func notes() map[string]string {
	return map[string]string{
		"commit latency, 16 clients, through the manager": "Concurrent commits share one durable save " +
			"(group commit, controller/reconciler/batch_save.go): each save encodes only the changed groups.",
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
