package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/infrakit-manager/manager/internal/field"
)

// ClientOptions configures the connection to the etcd cluster. Start from
// DefaultClientOptions.
type ClientOptions struct {
	// Endpoints are the members' client URLs (http:// or https://). Required.
	Endpoints []string
	// CACert, Cert and Key are PEM files: the CA that signed the members'
	// certificates, and this client's certificate and key (both or neither).
	CACert, Cert, Key string
	// DialTimeout bounds establishing a connection. Must be > 0. Defaults
	// to 2s.
	DialTimeout time.Duration
}

// DefaultClientOptions returns the defaults.
func DefaultClientOptions() ClientOptions {
	return ClientOptions{DialTimeout: 2 * time.Second}
}

// Validate checks the fields without changing them. Errors name fields.
func (o ClientOptions) Validate() error {
	var errs []error
	if len(o.Endpoints) == 0 {
		errs = append(errs, field.Errorf("Endpoints", "must name at least one etcd member"))
	}
	for _, e := range o.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, field.Errorf("Endpoints", "%q is not an http:// or https:// URL", e))
		}
	}
	if (o.Cert == "") != (o.Key == "") {
		errs = append(errs, field.Errorf("Cert", "and Key must be given together"))
	}
	if o.DialTimeout <= 0 {
		errs = append(errs, field.Errorf("DialTimeout", "must be > 0, got %s", o.DialTimeout))
	}
	return errors.Join(errs...)
}

// NewClient validates opts, reads the TLS files and returns a client. It
// does not wait for a member to answer: unreachable endpoints show up as
// errors (and retries) of the first calls. An unreadable or invalid TLS file
// is an error naming the file that wraps ErrTLSFile.
func NewClient(opts ClientOptions) (*clientv3.Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	tc, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            opts.Endpoints,
		DialTimeout:          opts.DialTimeout,
		DialKeepAliveTime:    opts.DialTimeout,
		DialKeepAliveTimeout: opts.DialTimeout,
		TLS:                  tc,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return cli, nil
}

func tlsConfig(o ClientOptions) (*tls.Config, error) {
	anyTLS := o.CACert != "" || o.Cert != ""
	for _, e := range o.Endpoints {
		anyTLS = anyTLS || strings.HasPrefix(e, "https://")
	}
	if !anyTLS {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLSFile, field.Errorf("CACert", "%s: %v", o.CACert, err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: %w", ErrTLSFile, field.Errorf("CACert", "%s: no PEM certificate in it", o.CACert))
		}
		tc.RootCAs = pool
	}
	if o.Cert != "" {
		for name, path := range map[string]string{"Cert": o.Cert, "Key": o.Key} {
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrTLSFile, field.Errorf(name, "%s: %v", path, err))
			}
		}
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTLSFile, field.Errorf("Cert", "%s / Key %s: %v", o.Cert, o.Key, err))
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}
