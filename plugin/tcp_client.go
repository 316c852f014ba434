package plugin

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// NewURLClient returns a client for a manager's Group API served over TCP
// (ServeTCP) at u: tcp://HOST:PORT (https with tlsConf, else http),
// https://HOST:PORT or http://HOST:PORT. An https URL needs tlsConf (the CA
// to trust, and the client certificate a mutual-TLS server asks for). It does
// not connect until the first call; the dial is bounded by the call's
// deadline.
func NewURLClient(u *url.URL, tlsConf *tls.Config, opts ClientOptions) (*Client, error) {
	if u == nil || u.Host == "" {
		return nil, fmt.Errorf("plugin: a TCP client needs a URL with HOST:PORT, got %v", u)
	}
	scheme := u.Scheme
	switch {
	case scheme == "tcp" && tlsConf != nil:
		scheme = "https"
	case scheme == "tcp":
		scheme = "http"
	case scheme == "https" && tlsConf == nil:
		return nil, fmt.Errorf("plugin: %s needs TLS settings (a CA to trust)", u)
	case scheme != "https" && scheme != "http":
		return nil, fmt.Errorf("plugin: unsupported URL scheme %q in %s (want tcp, https or http)", u.Scheme, u)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: opts.Timeout,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	if scheme == "http" {
		tr.TLSClientConfig = nil
	}
	endpoint := (&url.URL{Scheme: scheme, Host: u.Host, Path: "/"}).String()
	return &Client{path: endpoint, endpoint: endpoint, header: opts.Header, timeout: opts.Timeout,
		transport: tr, http: &http.Client{Transport: tr}}, nil
}

// ParseTCPAddress parses a tcp://HOST:PORT address (--listen, --host) and
// returns HOST:PORT. HOST may be an IP address or a name; PORT is required.
func ParseTCPAddress(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("address %q: want tcp://HOST:PORT", s)
	}
	if u.Scheme != "tcp" || u.Host == "" || u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("address %q: want tcp://HOST:PORT", s)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return "", fmt.Errorf("address %q: %w", s, err)
	}
	return u.Host, nil
}

// IsLoopback reports whether HOST:PORT's host is a loopback address
// (127.0.0.0/8, ::1) or "localhost".
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withTimeoutHeader bounds ctx by the caller's remaining time sent in
// HeaderTimeout (milliseconds), so that a call forwarded or made over TCP
// keeps its caller's deadline.
func withTimeoutHeader(ctx context.Context, h http.Header) (context.Context, context.CancelFunc) {
	ms, ok := parseTimeoutHeader(h.Get(HeaderTimeout))
	if !ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
}
