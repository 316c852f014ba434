// Package swarm implements sources.Leadership and sources.Store on Docker
// Swarm: this replica leads when the engine it talks to is the swarm's Raft
// leader, and the committed config lives in one label of the cluster spec.
//
// This is the only package that imports github.com/docker/docker. Moving to
// the client's new home, github.com/moby/moby/client (engine 29+, which takes
// option structs and returns result structs), touches only this package.
//
// Leadership asks the engine for its node ID once (Info), then inspects its
// own node (NodeInspect → ManagerStatus.Leader). Watch polls every 250 ms by
// default: an inspect costs about 1 ms, so a quick poll is cheap and bounds
// the delay for what no event announces. It also follows the engine's node
// events and checks again at once on each, so a demotion (which hands
// leadership over in about 60 ms) is reported about 50 ms after it (measured
// in the lab tests). Every call is bounded by ClientOptions.CallTimeout
// (1 s), because a follower forwards inspects to the leader and, with the
// leader gone, the engine answers only after 20 s; a call that fails or
// times out counts as "not leader", and a slow call never holds up the next
// poll (up to two checks run at once; the newest answer wins).
//
// Store keeps the original's label format (base64 of zlib of the indented
// JSON; the original reads ours and we read theirs). See Store for the
// compare-and-swap and its retry on "update out of sequence".
//
// Limits: leadership is detection, not election, and fences nothing; after
// a leader dies the engine needs 10-20 s (election timeout, not tunable on
// engine 20.10) before any node reports itself leader. The label shares the
// engine's 1.5 MiB Raft entry cap with the rest of the cluster spec, so
// Save refuses an encoded config over MaxLabelBytes (1 MiB); and every Save
// adds a Raft log entry of that size on every manager (lower the swarm's
// snapshot interval if the config is rewritten often).
package swarm
