// Package plugin speaks the InfraKit v0.1.0 plugin protocol: JSON-RPC 2.0 over
// HTTP/1.1 over unix sockets in a plugin directory.
//
// It holds the Group SPI wire types, a JSON-RPC server that serves a Group
// implementation (NewHandler, Serve), a client that implements Group against
// a socket with the Plugin.Implements handshake (Client), a client bound to a
// plugin name that re-resolves it at every call (NamedClient), and discovery
// of plugins by name in a directory (Dir, DefaultDir). It knows nothing of
// leadership, stores or reconciliation.
//
// The server is wire compatible with the original (gorilla/rpc json2): POST
// only (else 405), Content-Type application/json or absent (else 415), any
// path, errors from a method and unknown or ill-formed method names as -32000
// with the original texts, -32600 for a bad "jsonrpc" member (with the request
// echoed as data) or params that do not fit, ids echoed verbatim, and no body
// for a notification, whose method is still run. It deliberately differs
// where the original was faulty:
//   - Responses carry Content-Type application/json; charset=utf-8 (the
//     original sent text/plain, fault 16).
//   - A body that is not JSON gets a -32700 parse error with id null, and a
//     batch array or a non-object a -32600 error with id null, all with HTTP
//     200; the original answered these with an empty body.
//   - Bodies over ServerOptions.MaxBodyBytes get -32600 "request body exceeds
//     N bytes"; a panicking Group method gets -32000 and the server lives on.
//   - A stale socket (nothing accepts on it) is replaced at start instead of
//     crashing; a live one is refused with ErrSocketInUse.
//   - Resources are bounded (ServerOptions): header and body read deadlines,
//     a response write deadline, an idle timeout, and a cap on connections
//     derived from RLIMIT_NOFILE that sheds the oldest idle or slow
//     connection first. InspectGroups answers are streamed spec by spec.
//   - Plugin names follow one rule (ValidateName); specs are checked against
//     Limits (depth, UTF-8, size as stored) by the manager before it stores
//     or forwards them.
//
// The client adds what the original lacked: a deadline on every call, dials
// refused by a full listen backlog (EAGAIN) retried within it, and errors
// that tell a plugin that answered (*RPCError) from one that could not be
// reached (*TransportError, ErrUnreachable) or did not answer in time
// ("timed out after 2s", ErrTimeout).
//
// Over TCP (ServeTCP, NewURLClient) the same handler and limits serve the
// same API, with TLS and, given a client CA, mutual TLS (TLSFiles); failed
// handshakes are logged as refused connections. Two request headers, which
// the original ignores, ride beside the body: HeaderTimeout (the caller's
// remaining time, which bounds the call) and HeaderForwarded (a follower's
// forwarded request; more than one is refused). An error that implements
// DataError answers its data member (a not-a-leader naming the leader:
// NotLeaderData); the message stays the error's text.
//
// Limits: only the Group interface (version 0.1.0) is served and required;
// batch requests are not supported (as in the original); on the socket
// there is no authentication beyond its file mode (0600) and its
// directory's (0700 when created here); over TCP, a client certificate from
// the CA, and nothing finer.
package plugin
