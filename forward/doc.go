// Package forward is the layer a manager puts in front of its Group API so
// that a follower can be used like the leader: Group API writes
// (CommitGroup, FreeGroup, DestroyGroup) and the reads only the leader can
// answer (DescribeGroup: a follower's downstream watches nothing;
// InspectGroups) are forwarded to the leader's advertised URL over mutual
// TLS and answered with the leader's answer.
//
// Rules:
//   - A forwarded request carries plugin.HeaderForwarded (the forwarder's
//     URL). A request that carries it is served locally and never forwarded
//     again: no loops. The server refuses one that claims two hops.
//   - A location that points to this manager itself is refused (logged), as
//     is any location that is not an http(s) URL.
//   - The caller's deadline travels with the call (plugin.HeaderTimeout).
//   - Retries happen only when the target certainly did nothing: it
//     answered exactly "not-a-leader" (the front refuses before it stores
//     anything), or the connection could not be made (nothing was sent).
//     The request then goes to the new leader once it is known, within the
//     caller's deadline, or fails as not-a-leader naming the newest
//     location. A target that stored the write and lost leadership before
//     applying it ("… (not-a-leader)") is answered as it said, with the new
//     leader's location in the error data: the write is durable and the new
//     leader applies it; sending it again would commit it downstream twice
//     (every user commit is committed downstream, to answer its details).
//     Anything else (an answer, a connection lost mid-call) is returned as
//     is. So a write is applied once or not at all. The leader does not
//     de-duplicate by request id; nothing is ever sent twice unless the
//     first send certainly did nothing (and the writes are idempotent by ID
//     besides: a commit puts the spec under its ID, free and destroy remove
//     the ID).
//   - A not-a-leader answered by this replica names the leader's location in
//     the error's data member (plugin.NotLeaderData); the message stays
//     exactly "not-a-leader", the original's text.
//
// Forwarding is on by default when the manager listens on TCP with TLS
// (cmd/infrakit-manager): then the managers can authenticate each other
// with the same certificates, and a forwarded call never crosses the network
// in plaintext.
package forward
