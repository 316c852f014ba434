package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/pflag"

	"github.com/infrakit-manager/manager/plugin"
)

// Environment variables of the --host and TLS flags.
const (
	envHost    = "INFRAKIT_HOST"
	envTLSCA   = "INFRAKIT_TLS_CA"
	envTLSCert = "INFRAKIT_TLS_CERT"
	envTLSKey  = "INFRAKIT_TLS_KEY"
)

// hostFlags reach a manager over TCP instead of a socket in --plugin-dir.
type hostFlags struct {
	host   string
	tls    plugin.TLSFiles
	remote *plugin.Client // built by connect when host is set
	flags  *pflag.FlagSet // to tell flags given from environment defaults
}

func (h *hostFlags) register(pf *pflag.FlagSet) {
	h.flags = pf
	pf.StringVar(&h.host, "host", os.Getenv(envHost), "reach a manager's Group API at tcp://HOST:PORT instead of --plugin-dir ($"+envHost+"); TLS when --tls-ca is set")
	pf.StringVar(&h.tls.CA, "tls-ca", os.Getenv(envTLSCA), "PEM CA the manager's certificate is checked against ($"+envTLSCA+")")
	pf.StringVar(&h.tls.Cert, "tls-cert", os.Getenv(envTLSCert), "PEM client certificate, for a manager that requires one ($"+envTLSCert+")")
	pf.StringVar(&h.tls.Key, "tls-key", os.Getenv(envTLSKey), "PEM key of --tls-cert ($"+envTLSKey+")")
}

// connect builds the TCP client when --host is set; its errors are usage
// errors.
func (h *hostFlags) connect(opts plugin.ClientOptions) error {
	if h.host == "" {
		// The environment may set the TLS files for every call; given on
		// the command line without --host they are a mistake.
		for _, f := range []string{"tls-ca", "tls-cert", "tls-key"} {
			if h.flags != nil && h.flags.Changed(f) {
				return errors.New("--tls-ca, --tls-cert and --tls-key need --host")
			}
		}
		return nil
	}
	if _, err := plugin.ParseTCPAddress(h.host); err != nil {
		return fmt.Errorf("--host: %w", err)
	}
	u, _ := url.Parse(h.host)
	var tlsConf *tls.Config
	if !h.tls.Empty() {
		c, err := h.tls.ClientConfig()
		if err != nil {
			return err
		}
		tlsConf = c
	}
	var err error
	h.remote, err = plugin.NewURLClient(u, tlsConf, opts)
	return err
}

// notLeaderFields are the extra logrus fields of a not-a-leader failure:
// where the leader is, when the manager said.
func notLeaderFields(err error) string {
	loc, ok := plugin.LeaderLocationOf(err)
	if !ok {
		return ""
	}
	return " leader=" + logfmtValue(loc)
}
