package swarm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/docker/docker/client"

	"github.com/infrakit-manager/manager/internal/field"
)

// ClientOptions says how to reach one Docker engine. Start from
// DefaultClientOptions: its zero value turns TLS verification off.
type ClientOptions struct {
	// Host is the engine's address (unix:///path or tcp://host:port).
	// Required. Defaults to $DOCKER_HOST, or unix:///var/run/docker.sock.
	Host string
	// TLSCACert, TLSCert and TLSKey are PEM file paths. TLS is used when any
	// of them is set; TLSCert and TLSKey go together.
	TLSCACert, TLSCert, TLSKey string
	// TLSVerify verifies the engine's certificate (against TLSCACert, or the
	// system roots if it is empty). Defaults to true. The original fed its
	// --tlsverify flag into InsecureSkipVerify, so verification was off by
	// default (fault 15); here true means verify.
	TLSVerify bool
	// CallTimeout bounds every API call. A follower forwards node and swarm
	// calls to the leader and, when the leader is gone, hangs for 20 s before
	// the engine gives up; the timeout turns that hang into a quick error.
	// Must be > 0. Defaults to 1s: calls take about 1 ms, and a 1 MiB label
	// update 30-80 ms.
	CallTimeout time.Duration
}

// Client is a connection to one Docker engine, shared by a Leadership and a
// Store. It is safe for concurrent use.
type Client struct {
	api     *client.Client
	host    string
	timeout time.Duration
}

const defaultCallTimeout = time.Second

// DefaultClientOptions returns the defaults: $DOCKER_HOST or the local
// socket, TLS verification on, a 1s call timeout.
func DefaultClientOptions() ClientOptions {
	host := os.Getenv(client.EnvOverrideHost)
	if host == "" {
		host = client.DefaultDockerHost
	}
	return ClientOptions{Host: host, TLSVerify: true, CallTimeout: defaultCallTimeout}
}

// Validate checks the fields without changing them. Errors name fields.
func (o ClientOptions) Validate() error {
	var errs []error
	if o.CallTimeout <= 0 {
		errs = append(errs, field.Errorf("CallTimeout", "must be > 0, got %s", o.CallTimeout))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		errs = append(errs, field.Errorf("TLSCert", "and TLSKey must be given together"))
	}
	if o.Host == "" {
		errs = append(errs, field.Errorf("Host", "must not be empty"))
	} else if u, err := client.ParseHostURL(o.Host); err != nil {
		errs = append(errs, field.Errorf("Host", "%q: %w", o.Host, err))
	} else if u.Scheme != "unix" && u.Scheme != "tcp" {
		errs = append(errs, field.Errorf("Host", "%q: unknown scheme %q (unix:// or tcp:// only)", o.Host, u.Scheme))
	}
	return errors.Join(errs...)
}

// NewClient makes a client for the engine at opts.Host. It does not connect:
// the API version is negotiated on the first call (engine 20.10 speaks 1.41).
func NewClient(opts ClientOptions) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("swarm client: %w", err)
	}
	tr := &http.Transport{MaxIdleConns: 6, IdleConnTimeout: 30 * time.Second}
	if opts.TLSCACert != "" || opts.TLSCert != "" || opts.TLSKey != "" {
		cfg, err := tlsConfig(opts)
		if err != nil {
			return nil, fmt.Errorf("swarm client: %w", err)
		}
		tr.TLSClientConfig = cfg
	}
	api, err := client.NewClientWithOpts(
		client.WithHTTPClient(&http.Client{Transport: tr, CheckRedirect: client.CheckRedirect}),
		client.WithHost(opts.Host),
		client.WithAPIVersionNegotiation(),
	)
	if err != nil {
		return nil, fmt.Errorf("swarm: client for %s: %w", opts.Host, err)
	}
	return &Client{api: api, host: opts.Host, timeout: opts.CallTimeout}, nil
}

func tlsConfig(opts ClientOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !opts.TLSVerify} //nolint:gosec // off only on request
	if opts.TLSCACert != "" {
		pem, err := os.ReadFile(opts.TLSCACert)
		if err != nil {
			return nil, field.Errorf("TLSCACert", "cannot be read (the CA certificate): %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, field.Errorf("TLSCACert", "%s holds no PEM certificate", opts.TLSCACert)
		}
		cfg.RootCAs = pool
	}
	if opts.TLSCert != "" {
		pair, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return nil, field.Errorf("TLSCert", "and TLSKey: cannot load the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// Host returns the engine address this client talks to.
func (c *Client) Host() string { return c.host }

// Close releases idle connections.
func (c *Client) Close() error { return c.api.Close() }

// negotiate settles the API version with one Ping, if not done yet.
//
// The Docker client negotiates lazily, under a lock, on the first call; but
// Events reads the version without that lock (client v28.5.2), a data race
// with a first call running at the same time. Negotiating before opening an
// event stream makes the version fixed by then.
func (c *Client) negotiate(ctx context.Context) error {
	return c.call(ctx, func(ctx context.Context) error {
		ping, err := c.api.Ping(ctx)
		if err != nil {
			return fmt.Errorf("swarm: ping %s: %w", c.host, err)
		}
		c.api.NegotiateAPIVersionPing(ping)
		return nil
	})
}

// call runs fn with the per-call timeout.
func (c *Client) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return fn(ctx)
}
