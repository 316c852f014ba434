package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrPluginNotFound: no socket of that name in the plugin directory.
	// The error text of a lookup failure is "Plugin not found: <name>".
	ErrPluginNotFound = errors.New("plugin not found")
	// ErrUnreachable: the plugin could not be reached or did not answer
	// (dial, connection reset, timeout, bad HTTP response). It marks a
	// transport failure, as opposed to a plugin that answered with an error.
	ErrUnreachable = errors.New("plugin unreachable")
	// ErrTimeout: the call's deadline passed before the plugin answered
	// (it also matches ErrUnreachable, a transport failure). The error text
	// says "timed out after <d>", never "unreachable".
	ErrTimeout = errors.New("plugin call timed out")
	// ErrHandshake: the plugin answered Plugin.Implements without the Group
	// interface at the version we require.
	ErrHandshake = errors.New("plugin handshake failed")
	// ErrSocketInUse: a live server already answers on the socket path.
	ErrSocketInUse = errors.New("socket in use by a live server")
	// ErrNullResult: a plugin answered a call with neither an error nor a
	// result. The error text is the original client's, "result is null".
	ErrNullResult = errors.New("result is null")
	// ErrNotManager: the plugin answered, but not the Manager service (a
	// plain group plugin rather than a manager).
	ErrNotManager = errors.New("plugin is not a manager")
	// ErrLimit: a spec passes one of the Limits (nesting depth, size as
	// stored). Nothing was stored or forwarded.
	ErrLimit = errors.New("spec over limit")
	// ErrInvalidUTF8: a spec's ID or Properties are not valid UTF-8 (or
	// hold an unpaired surrogate escape). Nothing was stored or forwarded.
	ErrInvalidUTF8 = errors.New("spec not valid UTF-8")
	// ErrInvalidName: a plugin name that ValidateName refuses.
	ErrInvalidName = errors.New("invalid plugin name")
	// ErrNotSent: the send gate in the call's context (WithSendGate)
	// refused before the request was complete; the plugin did not act on it.
	ErrNotSent = errors.New("request not sent")
	// ErrGaveUp: the plugin answered that it gave up on the call, its
	// deadline (told in X-Infrakit-Timeout) having passed or the call
	// cancelled, before the method decided anything (an RPCError with
	// CodeGaveUp matches it).
	ErrGaveUp = errors.New("plugin gave up on the call's deadline")
)

// JSON-RPC error codes used on the wire.
const (
	CodeApplication    = -32000 // any error returned by a method, and unknown method/service
	CodeInvalidRequest = -32600 // jsonrpc missing or not "2.0", params of the wrong shape
	// CodeGaveUp: the method returned its context's error after the call's
	// deadline passed or it was cancelled: no verdict on the request. A
	// server-defined code (-32000 to -32099); clients that know only
	// CodeApplication still show the message.
	CodeGaveUp = -32001
)

// RPCError is an error answered by a plugin as a JSON-RPC error object. Its
// text is the message alone, so that a CLI prints exactly what the plugin said.
type RPCError struct {
	Code    int
	Message string
	// Data is the error's data member as answered (nil when null), e.g.
	// NotLeaderData.
	Data json.RawMessage
}

func (e *RPCError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrGaveUp) true for an answer with CodeGaveUp.
func (e *RPCError) Is(target error) bool { return target == ErrGaveUp && e.Code == CodeGaveUp }

// TransportError wraps a failure to reach a plugin. errors.Is(err,
// ErrUnreachable) is true for it, and errors.Is(err, ErrTimeout) too when
// the call's deadline passed (After > 0).
type TransportError struct {
	Path  string        // socket path, or URL
	Err   error         // the cause
	After time.Duration // when > 0, the call timed out after this long
}

func (e *TransportError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("plugin at %s timed out after %s: %v", e.Path, e.After, e.Err)
	}
	return fmt.Sprintf("plugin at %s unreachable: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports ErrUnreachable, and ErrTimeout for a timeout.
func (e *TransportError) Is(target error) bool {
	return target == ErrUnreachable || (target == ErrTimeout && e.After > 0)
}
