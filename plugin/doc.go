// Package plugin speaks the InfraKit v0.1.0 plugin protocol: JSON-RPC 2.0 over
// HTTP/1.1 over unix sockets in a plugin directory.
//
// It holds the Group SPI wire types, a JSON-RPC server that serves a Group
// implementation, a client that implements Group against a socket (with the
// Plugin.Implements handshake), and discovery of plugins by name in a
// directory. It knows nothing of leadership, stores or reconciliation.
//
// Limits: only the Group interface (version 0.1.0) is served; batch requests
// are not supported (as in the original); there is no authentication beyond
// the socket's file mode.
package plugin
