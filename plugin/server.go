package plugin

import (
	"bytes"
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
)

// DefaultMaxBodyBytes is the request body cap used when ServerOptions.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 16 << 20

// JSON-RPC codes this server answers besides CodeApplication and CodeInvalidRequest.
const (
	// CodeParseError answers a body that is not JSON at all. The original
	// answered such a body with HTTP 200 and an empty body; see doc.go.
	CodeParseError = -32700
)

// ServerOptions configure NewHandler and Serve.
type ServerOptions struct {
	// Log receives recovered panics (errors), stale-socket replacements
	// (info) and, at V(1), the start of serving and one line per call. Defaults to logr.Discard().
	Log logr.Logger
	// MaxBodyBytes caps a request body; a larger one is answered with a
	// -32600 error. Defaults to 16 MiB when 0; must not be negative.
	MaxBodyBytes int64
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
	return ServerOptions{Log: logr.Discard(), MaxBodyBytes: DefaultMaxBodyBytes}
}

func (o ServerOptions) validate() error {
	if o.MaxBodyBytes < 0 {
		return fmt.Errorf("request body limit must not be negative, got %d bytes", o.MaxBodyBytes)
	}
	return nil
}

func (o ServerOptions) withDefaults() ServerOptions {
	if o.Log.GetSink() == nil {
		o.Log = logr.Discard()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return o
}

// handler serves the Plugin and Group services of one Group.
type handler struct {
	group    Group
	log      logr.Logger
	maxBody  int64
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
// ManagerInterface after GroupInterface. The request path is ignored. A
// negative opts.MaxBodyBytes is treated as 0 (the default); Serve rejects it.
func NewHandler(g Group, opts ServerOptions) http.Handler {
	opts = opts.withDefaults()
	apis := []InterfaceSpec{GroupInterface}
	mgr, isManager := g.(Manager)
	if isManager {
		apis = append(apis, ManagerInterface)
	}
	h := &handler{
		group:   g,
		log:     opts.Log,
		maxBody: opts.MaxBodyBytes,
		obs:     opts.Observer,
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
					specs, err := g.InspectGroups(ctx)
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		msg := "request body exceeds " + strconv.FormatInt(h.maxBody, 10) + " bytes"
		writeJSON(w, encodeResponse(nil, nil, &wireError{Code: CodeInvalidRequest, Message: msg}))
		return
	}
	if err != nil {
		h.log.V(1).Info("read request body failed", "error", err.Error())
		return
	}
	if resp := h.handle(r.Context(), body); resp != nil {
		writeJSON(w, resp)
	}
}

// handle answers one request body. It returns nil when nothing is to be
// answered (a notification) and otherwise one JSON object ending in "\n".
func (h *handler) handle(ctx context.Context, body []byte) []byte {
	start := time.Now()
	req, werr := parseRequest(body)
	if werr != nil {
		h.observe(MethodInvalid, werr, start)
		return encodeResponse(nil, nil, werr) // the id is unknown
	}
	result, werr := h.dispatch(ctx, req)
	h.observe(h.methodLabel(req), werr, start)
	if req.ID == nil { // notification: executed, never answered
		if werr != nil {
			h.log.V(1).Info("notification failed", "method", req.Method, "error", werr.Message)
		}
		return nil
	}
	return encodeResponse(req.ID, result, werr)
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

// dispatch checks the request, finds the method and calls it.
func (h *handler) dispatch(ctx context.Context, req *request) (any, *wireError) {
	if req.Version != "2.0" {
		return nil, &wireError{Code: CodeInvalidRequest, Message: "jsonrpc must be 2.0", Data: req.echo()}
	}
	if req.badMethod {
		return nil, &wireError{Code: CodeInvalidRequest, Message: "method must be a string", Data: req.echo()}
	}
	parts := strings.Split(req.Method, ".")
	if len(parts) != 2 {
		return nil, appError(fmt.Sprintf("rpc: service/method request ill-formed: %q", req.Method))
	}
	service, ok := h.services[parts[0]]
	if !ok {
		return nil, appError(fmt.Sprintf("rpc: can't find service %q", req.Method))
	}
	m, ok := service[parts[1]]
	if !ok {
		return nil, appError(fmt.Sprintf("rpc: can't find method %q", req.Method))
	}
	result, err := h.invoke(ctx, req.Method, m, req.Params)
	h.log.V(1).Info("served call", "method", req.Method, "failed", err != nil)
	if err != nil {
		var werr *wireError
		if errors.As(err, &werr) {
			return nil, werr
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

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// encodeResponse renders a response object followed by "\n", as the
// original's json.Encoder did (HTML characters escaped, e.g. \u003e). A nil
// id is written as null. A result that cannot be encoded (for example
// invalid raw Properties from the Group) becomes a -32000 error.
func encodeResponse(id json.RawMessage, result any, werr *wireError) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := response{Version: "2.0", Result: result, Error: werr, ID: id}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(resp); err != nil {
		buf.Reset()
		resp = response{Version: "2.0", Error: appError("rpc: cannot encode result: " + err.Error()), ID: id}
		if err := json.NewEncoder(&buf).Encode(resp); err != nil {
			// Only the id could be at fault, and it was parsed from valid JSON.
			return []byte(`{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: cannot encode response","data":null},"id":null}` + "\n")
		}
	}
	return buf.Bytes()
}
