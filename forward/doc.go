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
//   - A read (DescribeGroup, InspectGroups) with no leader known, or whose
//     leader cannot be reached, is answered here as without forwarding (the
//     shared store; this replica's downstream): listing never waits for a
//     leader.
//   - A request is sent again only when that cannot apply it twice: the
//     target answered exactly "not-a-leader" (the front refuses before it
//     stores anything), or the connection could not be made (nothing was
//     sent), or, for CommitGroup only, the target stored the spec and lost
//     leadership before applying it ("… (not-a-leader)"). It then goes to
//     the new leader once its location is published, within the caller's
//     deadline, or fails as not-a-leader naming the newest location (it
//     stops waiting a quarter of the time left, at most 250 ms, before the
//     deadline, so that this answer reaches the caller in time). A
//     free or destroy answered "… (not-a-leader)" is passed on, naming the
//     new leader: the group left the store and the new leader carries out
//     the durable intent. Anything else (an answer, a connection lost
//     mid-call) is returned as is: the write is stored once or not at all.
//   - The leader does not de-duplicate by request id: the commit sent again
//     is idempotent. The new leader stores the same spec under the same ID
//     (one entry), and its downstream, already running that spec, plans
//     nothing ("Noop": no instance is created twice).
//   - A not-a-leader answered by this replica names the leader's location in
//     the error's data member (plugin.NotLeaderData); the message stays
//     exactly "not-a-leader", the original's text.
//
// Forwarding is on by default when the manager listens on TCP with TLS
// (cmd/infrakit-manager): then the managers can authenticate each other
// with the same certificates, and a forwarded call never crosses the network
// in plaintext.
package forward
