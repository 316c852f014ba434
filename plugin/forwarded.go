package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Request headers beside the JSON-RPC body. Both are ignored by the
// original InfraKit server, so sending them is always safe.
const (
	// HeaderForwarded marks a request a follower forwarded to the leader;
	// its value is the forwarder's advertised URL. A request carries it at
	// most once: the server refuses one that carries it twice (or a list),
	// and a receiver never forwards a marked request again.
	HeaderForwarded = "X-Infrakit-Forwarded-By"
	// HeaderTimeout is the caller's remaining time in milliseconds. The
	// client sets it from its call's deadline; the server bounds the call
	// by it, so a forwarded call keeps its caller's deadline.
	HeaderTimeout = "X-Infrakit-Timeout"
)

// ErrForwardedTwice: a request claims to have been forwarded more than once.
var ErrForwardedTwice = errors.New("request claims to be forwarded more than once")

type forwardedKey struct{}

// WithForwardedBy returns ctx marked as carrying a request forwarded by the
// manager advertised at by (what the server does for HeaderForwarded).
func WithForwardedBy(ctx context.Context, by string) context.Context {
	return context.WithValue(ctx, forwardedKey{}, by)
}

// ForwardedBy returns who forwarded the request being served, if it was.
func ForwardedBy(ctx context.Context) (string, bool) {
	by, ok := ctx.Value(forwardedKey{}).(string)
	return by, ok
}

// forwardedHeader checks HeaderForwarded: absent, or exactly one value that
// is not a list.
func forwardedHeader(values []string) (by string, present bool, err error) {
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(values) > 1 || strings.Contains(values[0], ",") || strings.TrimSpace(values[0]) == "":
		return "", true, ErrForwardedTwice
	}
	return values[0], true, nil
}

func parseTimeoutHeader(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms <= 0 || ms > 24*3600*1000 {
		return 0, false
	}
	return ms, true
}

// NotLeaderData is the data member of a not-a-leader error that knows where
// the leader is. The message stays exactly "not-a-leader" (the original's
// text, which clients compare); the location rides beside it.
type NotLeaderData struct {
	LeaderLocation string
}

// DataError is an error a Group method returns whose JSON-RPC error object
// carries a data member besides the message (its Error text).
type DataError interface {
	error
	WireData() any
}

// LeaderLocationOf returns the leader's location named by a not-a-leader
// answer (an *RPCError whose data is NotLeaderData), if it names one.
func LeaderLocationOf(err error) (string, bool) {
	var rerr *RPCError
	if !errors.As(err, &rerr) || len(rerr.Data) == 0 {
		return "", false
	}
	var d NotLeaderData
	if json.Unmarshal(rerr.Data, &d) != nil || d.LeaderLocation == "" {
		return "", false
	}
	return d.LeaderLocation, true
}
