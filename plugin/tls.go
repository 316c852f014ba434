package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles name the PEM files of one side of a TLS connection.
type TLSFiles struct {
	// CA is the certificate authority to trust. On a server it makes client
	// certificates required and checked against it (mutual TLS); on a
	// client it verifies the server.
	CA string
	// Cert and Key are this side's certificate chain and private key.
	// Required on a server; on a client, required by a mutual-TLS server.
	Cert, Key string
}

// Empty reports whether no file is named.
func (f TLSFiles) Empty() bool { return f.CA == "" && f.Cert == "" && f.Key == "" }

// ServerConfig loads the server side: Cert and Key required; with CA, client
// certificates are required and verified (mutual TLS). TLS 1.2 at least.
func (f TLSFiles) ServerConfig() (*tls.Config, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("TLS needs both --tls-cert and --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// ClientConfig loads the client side: CA required (the server is always
// verified); Cert and Key together or neither.
func (f TLSFiles) ClientConfig() (*tls.Config, error) {
	if f.CA == "" {
		return nil, errors.New("a TLS client needs --tls-ca to verify the server")
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	pool, err := loadPool(f.CA)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("load TLS CA %s: no PEM certificate in it", path)
	}
	return pool, nil
}
