package etcd

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDiagnose(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(nil)
	defer tlsSrv.Close()
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer plain.Close()
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			go func() { time.Sleep(time.Second); c.Close() }()
		}
	}()
	tlsHost := strings.TrimPrefix(tlsSrv.URL, "https://")
	for _, tc := range []struct{ ep, want string }{
		{"http://127.0.0.1:1", "cannot connect"},
		{"http://" + tlsHost, "speaks TLS: use https://"},
		{"https://" + plain.Addr().String(), "TLS handshake failed"},
		{"https://" + tlsHost, "TLS handshake failed"}, // its certificate is not trusted: no --cacert
	} {
		t.Run(tc.ep, func(t *testing.T) {
			got := Diagnose(ClientOptions{Endpoints: []string{tc.ep}, DialTimeout: 500 * time.Millisecond})
			require.Contains(t, got, tc.ep)
			require.Contains(t, got, tc.want)
		})
	}
}
