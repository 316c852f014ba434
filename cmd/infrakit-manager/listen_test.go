package main

import (
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

func TestListenFlags(t *testing.T) {
	dir := t.TempDir()
	o := certgen.DefaultOptions()
	o.Dir, o.Names = dir, []string{"m1"}
	require.NoError(t, certgen.Write(o))
	tls := []string{"--tls-cert", filepath.Join(dir, "m1.pem"), "--tls-key", filepath.Join(dir, "m1-key.pem")}
	mtls := append([]string{"--tls-ca", filepath.Join(dir, "ca.pem")}, tls...)
	locs, err := file.NewLocation(filepath.Join(dir, "leader"))
	require.NoError(t, err)

	cases := []struct {
		name      string
		args      []string
		locs      sources.LocationStore
		err       string
		forward   bool
		advertise string
	}{
		{name: "nothing: no listener, no forwarding", locs: locs},
		{name: "plaintext on loopback", args: []string{"--listen", "tcp://127.0.0.1:24801"}, locs: locs, advertise: "http://127.0.0.1:24801"},
		{name: "plaintext off loopback refused", args: []string{"--listen", "tcp://0.0.0.0:24801"}, locs: locs, err: "--insecure"},
		{name: "plaintext off loopback with --insecure", args: []string{"--listen", "tcp://0.0.0.0:24801", "--insecure"}, locs: locs, advertise: "http://0.0.0.0:24801"},
		{name: "TLS without a client CA: no forwarding by default", args: append([]string{"--listen", "tcp://127.0.0.1:24801"}, tls...), locs: locs, advertise: "https://127.0.0.1:24801"},
		{name: "mutual TLS: forwarding on by default", args: append([]string{"--listen", "tcp://127.0.0.1:24801"}, mtls...), locs: locs, forward: true, advertise: "https://127.0.0.1:24801"},
		{name: "mutual TLS, --forward=false", args: append([]string{"--listen", "tcp://127.0.0.1:24801", "--forward=false"}, mtls...), locs: locs, advertise: "https://127.0.0.1:24801"},
		{name: "explicit --advertise", args: append([]string{"--listen", "tcp://127.0.0.1:24801", "--advertise", "https://10.0.0.1:24801"}, mtls...), locs: locs, forward: true, advertise: "https://10.0.0.1:24801"},
		{name: "a mode without a location store: no default forwarding", args: append([]string{"--listen", "tcp://127.0.0.1:24801"}, mtls...), advertise: "https://127.0.0.1:24801"},
		{name: "a mode without a location store: --forward refused", args: append([]string{"--listen", "tcp://127.0.0.1:24801", "--forward"}, mtls...), err: "does not publish"},
		{name: "TLS files without --listen", args: tls, locs: locs, err: "need --listen"},
		{name: "--forward without --listen", args: []string{"--forward"}, locs: locs, err: "needs --listen"},
		{name: "not a tcp URL", args: []string{"--listen", "127.0.0.1:24801"}, locs: locs, err: "tcp://HOST:PORT"},
		{name: "key missing", args: []string{"--listen", "tcp://127.0.0.1:24801", "--tls-cert", filepath.Join(dir, "m1.pem")}, locs: locs, err: "--tls-key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var l listenFlags
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			l.register(fs)
			require.NoError(t, fs.Parse(tc.args))
			o := controller.DefaultOptions()
			o.Mode = "test"
			err := l.apply(&o, tc.locs, logr.Discard())
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.advertise, o.Advertise)
			require.NotNil(t, o.Wrap)
			require.Equal(t, tc.forward, l.forwarding, "forwarding")
			if tc.advertise != "" {
				require.NotNil(t, o.TCP)
			}
		})
	}
}
