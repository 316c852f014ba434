package certgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/infrakit-manager/manager/internal/field"
)

// Options say what Write makes. Start from DefaultOptions.
type Options struct {
	// Dir receives ca.pem and <name>.pem, <name>-key.pem per name. Required.
	Dir string
	// CAName is the CA's common name and file prefix ("ca": ca.pem).
	// Required. Defaults to "ca".
	CAName string
	// Names are the certificates to make, e.g. m1 m2 m3 cli. Required.
	Names []string
	// IPs are the server addresses every certificate is valid for.
	IPs []net.IP
	// Valid is how long the certificates last. Must be > 0. Defaults to
	// 7 days.
	Valid time.Duration
}

// DefaultOptions makes a CA "ca" and certificates valid for 127.0.0.1.
func DefaultOptions() Options {
	return Options{CAName: "ca", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Valid: 7 * 24 * time.Hour}
}

// Validate checks the options without changing them. Errors name fields.
func (o Options) Validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, field.Errorf("Dir", "must not be empty"))
	}
	if o.CAName == "" {
		errs = append(errs, field.Errorf("CAName", "must not be empty"))
	}
	if len(o.Names) == 0 {
		errs = append(errs, field.Errorf("Names", "must name at least one certificate"))
	}
	if o.Valid <= 0 {
		errs = append(errs, field.Errorf("Valid", "must be > 0, got %s", o.Valid))
	}
	return errors.Join(errs...)
}

// Write makes the CA and the certificates and writes them as PEM files (keys
// with mode 0600).
func Write(o Options) error {
	if err := o.Validate(); err != nil {
		return fmt.Errorf("certgen: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return err
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: o.CAName, Organization: []string{"infrakit-manager walkthrough"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(o.Valid),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(o.Dir, o.CAName+".pem"), "CERTIFICATE", caDER, 0o644); err != nil {
		return err
	}
	for _, name := range o.Names {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(o.Valid),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			IPAddresses:  o.IPs,
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(filepath.Join(o.Dir, name+".pem"), "CERTIFICATE", der, 0o644); err != nil {
			return err
		}
		if err := writePEM(filepath.Join(o.Dir, name+"-key.pem"), "EC PRIVATE KEY", keyDER, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("certgen: %w", err)
	}
	return nil
}
