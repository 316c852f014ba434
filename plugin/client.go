package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is the per-call deadline used when ClientOptions.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes caps a response body read by the client.
const maxResponseBytes = 64 << 20

// ClientOptions configure a Client.
type ClientOptions struct {
	// Timeout bounds each call: a Group method (its handshake included),
	// Call and Implements. A shorter deadline in the caller's ctx wins.
	// Defaults to 10s when 0 or negative.
	Timeout time.Duration
	// Header is added to every request (e.g. HeaderForwarded). Optional.
	Header http.Header
}

// DefaultClientOptions returns the defaults.
func DefaultClientOptions() ClientOptions { return ClientOptions{Timeout: DefaultTimeout} }

// Client is a Group served by the plugin at one socket path. It keeps
// connections alive and runs the Plugin.Implements handshake lazily before
// its first Group call, caching the outcome when the plugin answered it
// (success or mismatch) and retrying it after a transport error. It is safe
// for concurrent use.
type Client struct {
	path      string // socket path, or the URL of a TCP client
	endpoint  string // URL posted to
	header    http.Header
	timeout   time.Duration
	transport *http.Transport
	http      *http.Client

	hsMu   sync.Mutex
	hsDone bool          // the outcome below is final
	hsErr  error         // nil on success, the mismatch otherwise
	hsWait chan struct{} // non-nil while a handshake is in flight
}

var _ Group = (*Client)(nil)

// NewClient returns a client for the plugin socket at socketPath. It does not
// connect until the first call.
func NewClient(socketPath string, opts ClientOptions) *Client {
	return newClient(socketPath, opts, nil)
}

// newClient is NewClient with a check run before every new connection is
// dialled (connections are kept alive, so this is rare); an error from it
// fails the dial.
func newClient(socketPath string, opts ClientOptions, beforeDial func() error) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			if beforeDial != nil {
				if err := beforeDial(); err != nil {
					return nil, err
				}
			}
			return dialUnix(ctx, socketPath, opts.Timeout)
		},
		MaxIdleConns:        8,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{path: socketPath, endpoint: "http://a/", header: opts.Header, timeout: opts.Timeout,
		transport: tr, http: &http.Client{Transport: tr}}
}

// Path returns the socket path.
func (c *Client) Path() string { return c.path }

// Close closes idle keep-alive connections. The client stays usable.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Call makes one JSON-RPC call, without the handshake. params must encode as
// a JSON object (nil sends {}); the result is decoded into result. A JSON-RPC
// error answer is returned as *RPCError, a missing result as ErrNullResult,
// and a failure to reach the plugin or a malformed answer as *TransportError.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.call(ctx, method, params, result)
}

// Implements asks the plugin which APIs it implements (Plugin.Implements),
// without caching.
func (c *Client) Implements(ctx context.Context) ([]InterfaceSpec, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	var resp ImplementsResponse
	if err := c.call(ctx, "Plugin.Implements", ImplementsRequest{}, &resp); err != nil {
		return nil, err
	}
	return resp.APIs, nil
}

// clientRequest has the member order of the original client.
type clientRequest struct {
	Version string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      int64           `json:"id"`
}

func (c *Client) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	rawParams, err := encodeParams(params)
	if err != nil {
		return fmt.Errorf("call %s: encode params: %w", method, err)
	}
	if len(rawParams) == 0 || rawParams[0] != '{' {
		return fmt.Errorf("call %s: params must encode as a JSON object, got %.40s", method, rawParams)
	}
	body, err := encodeRequest(method, rawParams, rand.Int64())
	if err != nil {
		return fmt.Errorf("call %s: encode request: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("call %s: %w", method, err)
	}
	var gated *gateState
	if gate := sendGateFrom(ctx); gate != nil && method != "Plugin.Implements" {
		req.Body, req.GetBody, gated = gatedRequestBody(ctx, gate, body)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	// Canonical keys, set directly from one backing array (as Header.Set would).
	v := [2]string{"application/json"}
	req.Header["Content-Type"] = v[0:1:1]
	if dl, ok := ctx.Deadline(); ok {
		v[1] = strconv.FormatInt(max(1, time.Until(dl).Milliseconds()), 10)
		req.Header[HeaderTimeout] = v[1:2:2]
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if gated != nil {
			if gerr := gated.refused(); gerr != nil {
				return fmt.Errorf("call %s: %w", method, gerr)
			}
		}
		return c.transportError(ctx, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return c.transportError(ctx, fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(snippet))))
	}
	return decodeAnswer(method, resp, result, func(err error) error { return c.transportError(ctx, err) })
}

// decodeResponse turns a response body into result or an error. Malformed
// bodies go through malformed (the client wraps them as transport errors).
func decodeResponse(method string, data []byte, result any, malformed func(error) error) error {
	return decodeStream(method, bytes.NewReader(data), result, malformed)
}

// callStart carries when a call began, to say how long it ran before its
// deadline passed.
type callStart struct{}

// withDeadline bounds a call by the client's timeout (a shorter deadline in
// ctx wins) and notes when it began.
func (c *Client) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, callStart{}, time.Now())
	return context.WithTimeout(ctx, c.timeout)
}

// transportError wraps err; when the call's deadline has passed it reports
// a timeout "after" the call's whole budget (e.g. 2s), not "unreachable".
func (c *Client) transportError(ctx context.Context, err error) error {
	// net/http wraps a failure as `Post "http://a/": <cause>`: the URL is a
	// placeholder (the socket is Path), so only the cause is kept.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	te := &TransportError{Path: c.path, Err: err}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		te.After = c.timeout
		start, ok := ctx.Value(callStart{}).(time.Time)
		if dl, hasDL := ctx.Deadline(); ok && hasDL {
			te.After = dl.Sub(start).Round(time.Millisecond)
		}
	}
	return te
}
