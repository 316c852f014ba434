package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
)

// DefaultMetricsAddr is the default of --metrics-addr: empty, the server is
// off. Replicas often share a host (the demo, the e2e tests, a lab), and any
// fixed port would make the second one fail to start; as kubebuilder's
// scaffold does, serving is asked for explicitly. SuggestedMetricsAddr is
// what the systemd unit and the README use.
const DefaultMetricsAddr = ""

// SuggestedMetricsAddr is loopback only, since the listener has no
// authentication, on a port unused by the common exporters and not 8080,
// often an application's port. Scraping from another host needs a routable
// address.
const SuggestedMetricsAddr = "127.0.0.1:9913"

// DefaultCheckTimeout bounds one /healthz or /readyz answer.
const DefaultCheckTimeout = time.Second

// ServerOptions configure Listen. Start from DefaultServerOptions.
type ServerOptions struct {
	// Addr is HOST:PORT to listen on. Required.
	Addr string
	// Metrics is served on /metrics. Required.
	Metrics *Metrics
	// Health answers /healthz and /readyz. Required (use &Checks{} for none).
	Health Health
	// CheckTimeout bounds each probe; a check still running then answers
	// 503 "... did not answer in time". Must be > 0. Defaults to
	// DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Log receives the listening line (info) and server errors (V(1)).
	// The zero Logger discards.
	Log logr.Logger
}

// DefaultServerOptions returns the defaults (Metrics and Health still to set).
func DefaultServerOptions() ServerOptions {
	return ServerOptions{Addr: DefaultMetricsAddr, CheckTimeout: DefaultCheckTimeout}
}

// Validate checks the options without changing them. Errors name fields.
func (o ServerOptions) Validate() error {
	var errs []error
	if o.Addr == "" {
		errs = append(errs, field.Errorf("Addr", "must not be empty: the metrics server is off"))
	} else if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		errs = append(errs, field.Errorf("Addr", "%q must be HOST:PORT: %w", o.Addr, err))
	}
	if o.Metrics == nil {
		errs = append(errs, field.Errorf("Metrics", "must not be nil"))
	}
	if o.Health == nil {
		errs = append(errs, field.Errorf("Health", "must not be nil (use &Checks{} for none)"))
	}
	if o.CheckTimeout <= 0 {
		errs = append(errs, field.Errorf("CheckTimeout", "must be > 0, got %s", o.CheckTimeout))
	}
	return errors.Join(errs...)
}

// Server serves /metrics, /healthz and /readyz over HTTP.
type Server struct {
	ln     net.Listener
	http   *http.Server
	served chan struct{}
}

// Listen opens opts.Addr and serves in the background until Shutdown. A
// failure to bind is an error wrapping ErrBind that names the address.
func Listen(opts ServerOptions) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("metrics server: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrBind, opts.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", opts.Metrics.Handler())
	mux.Handle("/healthz", probe(opts.Health.Healthz, nil, opts.CheckTimeout))
	var details func(context.Context) []string
	if d, ok := opts.Health.(Detailer); ok {
		details = d.ReadyDetails
	}
	mux.Handle("/readyz", probe(opts.Health.Readyz, details, opts.CheckTimeout))
	s := &Server{
		ln: ln,
		http: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Log.V(1).Info("metrics server stopped", "error", err.Error())
		}
	}()
	opts.Log.Info("serving metrics and health", "address", s.Addr(), "paths", "/metrics /healthz /readyz")
	return s, nil
}

// Addr is the address listened on (the port chosen when Addr had port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting and waits for in-flight requests until ctx is
// done, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
	}
	<-s.served
	return err
}

// probe answers GET/HEAD with 200 "ok" when check passes and 503 with the
// failure otherwise, never waiting more than timeout. Lines from details, if
// any, follow ("leader: https://…").
func probe(check func(context.Context) error, details func(context.Context) []string, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			text(w, http.StatusMethodNotAllowed, "GET or HEAD only")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		done := make(chan error, 1) // buffered: a late check does not leak a blocked send
		go func() { done <- check(ctx) }()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			err = fmt.Errorf("%w (%s)", ErrCheckTimeout, timeout)
		}
		extra := ""
		if details != nil {
			for _, l := range details(ctx) {
				extra += "\n" + l
			}
		}
		if err != nil {
			text(w, http.StatusServiceUnavailable, strings.TrimSpace(err.Error())+extra)
			return
		}
		text(w, http.StatusOK, "ok"+extra)
	})
}

func text(w http.ResponseWriter, status int, body string) {
	body += "\n"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
