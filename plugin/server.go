package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
)

// DefaultMaxBodyBytes is DefaultServerOptions().MaxBodyBytes.
const DefaultMaxBodyBytes = 16 << 20

// Default server deadlines; see ServerOptions.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultBodyReadTimeout   = 10 * time.Second
	DefaultWriteTimeout      = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
)

// JSON-RPC codes this server answers besides CodeApplication and CodeInvalidRequest.
const (
	// CodeParseError answers a body that is not JSON at all. The original
	// answered such a body with HTTP 200 and an empty body; see doc.go.
	CodeParseError = -32700
)

// ServerOptions configure NewHandler and Serve. Start from
// DefaultServerOptions: every size, deadline and cap must be > 0.
type ServerOptions struct {
	// Log receives recovered panics (errors), listening and stale-socket
	// events and the connection cap being reached (info), and one line per
	// call at V(1). The zero Logger discards.
	Log logr.Logger
	// MaxBodyBytes caps a request body; a larger one is answered with a
	// -32600 error. Defaults to 16 MiB.
	MaxBodyBytes int64
	// ReadHeaderTimeout bounds reading a request's headers (default 5s).
	ReadHeaderTimeout time.Duration
	// BodyReadTimeout bounds reading a request's body, from the end of its
	// headers (default 10s). A client that trickles its body is dropped.
	BodyReadTimeout time.Duration
	// WriteTimeout bounds each write of a response (default 10s): a client
	// that reads nothing for that long is dropped and its answer freed,
	// while one reading a large answer steadily gets all of it. The method
	// call itself is bounded by the Group, not here.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default 60s).
	IdleTimeout time.Duration
	// MaxConns caps open connections. At the cap, a new connection sheds the
	// oldest one that is idle or still sending its request; when every
	// connection is running a call, accepting waits. Defaults to
	// DefaultMaxConns(), derived from RLIMIT_NOFILE.
	MaxConns int
	// Observer, when set, is told about every JSON-RPC request answered
	// (see RequestObserver). Optional.
	Observer RequestObserver
}

// RequestObserver is told about every JSON-RPC request the server handles,
// for metrics. It is called on the request's goroutine and must not block.
// Requests refused at the HTTP level (405, 415) are not reported.
type RequestObserver interface {
	// ObserveRequest: method is the served method name ("Group.CommitGroup",
	// "Manager.Status", ...), MethodUnknown for a name this server does not
	// serve, or MethodInvalid when the request could not be parsed; code is 0
	// for success, else the JSON-RPC error code answered (CodeApplication
	// for an error returned by the method).
	ObserveRequest(method string, code int, d time.Duration)
}

// Method labels of RequestObserver beside the served names. They keep the
// set of names bounded whatever clients send.
const (
	MethodUnknown = "unknown"
	MethodInvalid = "invalid"
)

// DefaultServerOptions returns the defaults.
func DefaultServerOptions() ServerOptions {
	return ServerOptions{
		MaxBodyBytes:      DefaultMaxBodyBytes,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		BodyReadTimeout:   DefaultBodyReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxConns:          DefaultMaxConns(),
	}
}

// Validate checks the fields without changing them: every size, deadline
// and cap must be > 0. Errors name fields.
func (o ServerOptions) Validate() error {
	var errs []error
	if o.MaxBodyBytes <= 0 {
		errs = append(errs, field.Errorf("MaxBodyBytes", "must be > 0, got %d", o.MaxBodyBytes))
	}
	for _, d := range []struct {
		name string
		val  time.Duration
	}{
		{"ReadHeaderTimeout", o.ReadHeaderTimeout}, {"BodyReadTimeout", o.BodyReadTimeout},
		{"WriteTimeout", o.WriteTimeout}, {"IdleTimeout", o.IdleTimeout},
	} {
		if d.val <= 0 {
			errs = append(errs, field.Errorf(d.name, "must be > 0, got %s", d.val))
		}
	}
	if o.MaxConns <= 0 {
		errs = append(errs, field.Errorf("MaxConns", "must be > 0, got %d", o.MaxConns))
	}
	return errors.Join(errs...)
}

// handler serves the Plugin and Group services of one Group.
type handler struct {
	group    Group
	log      logr.Logger
	maxBody  int64
	bodyRead time.Duration
	write    time.Duration
	conns    *connLimiter // nil when not served by Serve
	inspect  inspectFlights
	obs      RequestObserver
	services map[string]map[string]method
}

// method decodes its params and calls the Group. A params error is returned as
// a *wireError; any other error is the Group's own.
type method func(ctx context.Context, g Group, params json.RawMessage) (any, error)

// NewHandler returns an http.Handler that answers JSON-RPC 2.0 requests for
// Plugin.Implements and the Group service, served by g, with the original
// InfraKit v0.1.0 wire format (see doc.go). When g also implements Manager,
// the Manager service is answered too and Plugin.Implements lists
// ManagerInterface after GroupInterface. The request path is ignored.
// Without Serve there is no connection cap; the handler still sets the body
// read and response write deadlines on the connection. opts must pass
// Validate (start from DefaultServerOptions): NewHandler panics otherwise,
// as options are the program's, not its input.
func NewHandler(g Group, opts ServerOptions) http.Handler {
	if err := opts.Validate(); err != nil {
		panic(fmt.Sprintf("plugin.NewHandler: %v", err))
	}
	return newHandler(g, opts)
}

// newHandler serves g with opts, which passed Validate.
func newHandler(g Group, opts ServerOptions) *handler {
	apis := []InterfaceSpec{GroupInterface}
	mgr, isManager := g.(Manager)
	if isManager {
		apis = append(apis, ManagerInterface)
	}
	h := &handler{}
	*h = handler{
		group:    g,
		log:      opts.Log,
		maxBody:  opts.MaxBodyBytes,
		bodyRead: opts.BodyReadTimeout,
		write:    opts.WriteTimeout,
		obs:      opts.Observer,
		services: map[string]map[string]method{
			"Plugin": {
				"Implements": bind(func(context.Context, Group, ImplementsRequest) (any, error) {
					return ImplementsResponse{APIs: apis}, nil
				}),
			},
			"Group": {
				"CommitGroup": bind(func(ctx context.Context, g Group, p CommitGroupRequest) (any, error) {
					details, err := g.CommitGroup(ctx, p.Spec, p.Pretend)
					if err != nil {
						return nil, err
					}
					return CommitGroupResponse{Details: details}, nil
				}),
				"FreeGroup": bind(func(ctx context.Context, g Group, p IDRequest) (any, error) {
					if err := g.FreeGroup(ctx, p.ID); err != nil {
						return nil, err
					}
					return OKResponse{OK: true}, nil
				}),
				"DescribeGroup": bind(func(ctx context.Context, g Group, p IDRequest) (any, error) {
					d, err := g.DescribeGroup(ctx, p.ID)
					if err != nil {
						return nil, err
					}
					return DescribeGroupResponse{Description: d}, nil
				}),
				"DestroyGroup": bind(func(ctx context.Context, g Group, p IDRequest) (any, error) {
					if err := g.DestroyGroup(ctx, p.ID); err != nil {
						return nil, err
					}
					return OKResponse{OK: true}, nil
				}),
				"InspectGroups": bind(func(ctx context.Context, g Group, _ InspectGroupsRequest) (any, error) {
					if ei, ok := g.(EncodedInspector); ok {
						enc, err := ei.InspectGroupsEncoded(ctx)
						if err != nil {
							return nil, err
						}
						if len(enc) == 0 {
							return InspectGroupsResponse{}, nil
						}
						return enc, nil
					}
					specs, err := h.inspect.do(ctx, g)
					if err != nil {
						return nil, err
					}
					return InspectGroupsResponse{Groups: specs}, nil
				}),
			},
		},
	}
	if isManager {
		h.services["Manager"] = managerMethods(mgr)
	}
	return h
}

// bind turns a typed method into a method that decodes its params first.
func bind[P any](fn func(context.Context, Group, P) (any, error)) method {
	return func(ctx context.Context, g Group, raw json.RawMessage) (any, error) {
		var p P
		if err := decodeParams(raw, &p); err != nil {
			return nil, err
		}
		return fn(ctx, g, p)
	}
}

// ServeHTTP checks the HTTP envelope, then answers the JSON-RPC request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeText(w, http.StatusMethodNotAllowed, "rpc: POST method required, received "+r.Method)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		media, _, _ := strings.Cut(ct, ";")
		if strings.ToLower(strings.TrimSpace(media)) != "application/json" {
			writeText(w, http.StatusUnsupportedMediaType, "rpc: unrecognized Content-Type: "+media)
			return
		}
	}
	rc := http.NewResponseController(w)
	// Per-request deadlines through the connection (not http.Server's
	// ReadTimeout/WriteTimeout, whose read deadline would cancel a long call).
	// Errors mean the writer cannot take deadlines (tests' recorders).
	_ = rc.SetReadDeadline(time.Now().Add(h.bodyRead))
	// On error the deadline stays, so that the server does not wait to drain
	// the rest of the body and closes the connection instead.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err == nil {
		_ = rc.SetReadDeadline(time.Time{})
	}
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		msg := "request body exceeds " + strconv.FormatInt(h.maxBody, 10) + " bytes"
		_ = writeResponse(w, h.write, nil, nil, &wireError{Code: CodeInvalidRequest, Message: msg})
		return
	}
	if err != nil {
		h.log.V(1).Info("read request body failed", "error", err.Error())
		return
	}
	ctx := r.Context()
	by, forwarded, ferr := forwardedHeader(r.Header.Values(HeaderForwarded))
	if ferr != nil {
		h.log.Info("refused request", "reason", ferr.Error(), "remote", r.RemoteAddr)
		var id json.RawMessage
		if req, perr := parseRequest(body); perr == nil {
			id = req.ID
		}
		_ = writeResponse(w, h.write, id, nil, &wireError{Code: CodeInvalidRequest, Message: ferr.Error()})
		return
	}
	if forwarded {
		ctx = WithForwardedBy(ctx, by)
	}
	ctx, cancel := withTimeoutHeader(ctx, r.Header)
	defer cancel()
	h.conns.busy(r.Context(), true) // a call runs: not to be shed
	req, result, werr, answer := h.handle(ctx, body)
	if !answer {
		return
	}
	if err := writeResponse(w, h.write, req, result, werr); err != nil {
		h.log.V(1).Info("write response failed", "error", err.Error())
	}
}

// handle runs one request body. It returns the request's id (nil when it
// could not be parsed), the result or error to answer, and whether anything
// is to be answered (not for a notification).
func (h *handler) handle(ctx context.Context, body []byte) (json.RawMessage, any, *wireError, bool) {
	start := time.Now()
	req, werr := parseRequest(body)
	if werr != nil {
		h.observe(MethodInvalid, werr, start)
		return nil, nil, werr, true // the id is unknown
	}
	result, werr := h.dispatch(ctx, req)
	h.observe(h.methodLabel(req), werr, start)
	if req.ID == nil { // notification: executed, never answered
		if werr != nil {
			h.log.V(1).Info("notification failed", "method", req.Method, "error", werr.Message)
		}
		return nil, nil, nil, false
	}
	return req.ID, result, werr, true
}

// dispatch checks the request, finds the method and calls it.
func (h *handler) dispatch(ctx context.Context, req *request) (any, *wireError) {
	if req.Version != "2.0" {
		return nil, &wireError{Code: CodeInvalidRequest, Message: "jsonrpc must be 2.0", Data: req.echo()}
	}
	if req.badMethod {
		return nil, &wireError{Code: CodeInvalidRequest, Message: "method must be a string", Data: req.echo()}
	}
	serviceName, methodName, ok := strings.Cut(req.Method, ".")
	if !ok || strings.Contains(methodName, ".") {
		return nil, appError(fmt.Sprintf("rpc: service/method request ill-formed: %q", req.Method))
	}
	service, ok := h.services[serviceName]
	if !ok {
		return nil, appError(fmt.Sprintf("rpc: can't find service %q", req.Method))
	}
	m, ok := service[methodName]
	if !ok {
		return nil, appError(fmt.Sprintf("rpc: can't find method %q", req.Method))
	}
	result, err := h.invoke(ctx, req.Method, m, req.Params)
	if l := h.log.V(1); l.Enabled() {
		l.Info("served call", "method", req.Method, "failed", err != nil)
	}
	if err != nil {
		var werr *wireError
		if errors.As(err, &werr) {
			return nil, werr
		}
		var derr DataError
		if errors.As(err, &derr) {
			return nil, &wireError{Code: CodeApplication, Message: err.Error(), Data: derr.WireData()}
		}
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			// the method stopped on the call's own deadline or cancellation
			return nil, &wireError{Code: CodeGaveUp, Message: err.Error()}
		}
		return nil, appError(err.Error())
	}
	return result, nil
}

// invoke calls m and turns a panic into an error, so one bad call cannot take
// the server down.
func (h *handler) invoke(ctx context.Context, name string, m method, params json.RawMessage) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			h.log.Error(fmt.Errorf("panic: %v", r), "recovered panic in rpc method",
				"method", name, "stack", string(debug.Stack()))
			result, err = nil, fmt.Errorf("rpc: method %s panicked: %v", name, r)
		}
	}()
	return m(ctx, h.group, params)
}

func appError(msg string) *wireError {
	return &wireError{Code: CodeApplication, Message: msg}
}

// observe reports one request to the observer, if any.
func (h *handler) observe(method string, werr *wireError, start time.Time) {
	if h.obs == nil {
		return
	}
	code := 0
	if werr != nil {
		code = werr.Code
	}
	h.obs.ObserveRequest(method, code, time.Since(start))
}

// methodLabel is req's method if this server serves it, else MethodInvalid
// or MethodUnknown.
func (h *handler) methodLabel(req *request) string {
	if req.badMethod || req.Version != "2.0" {
		return MethodInvalid
	}
	service, name, ok := strings.Cut(req.Method, ".")
	if !ok {
		return MethodUnknown
	}
	if _, ok := h.services[service][name]; !ok {
		return MethodUnknown
	}
	return req.Method
}
