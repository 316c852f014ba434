package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/forward"
	"github.com/infrakit-manager/manager/forward/forwardtest"
	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/plugin"
)

// follower is a manager's Group API on a follower that does not forward:
// it answers not-a-leader naming the leader.
func follower(t *testing.T) plugin.Group {
	t.Helper()
	local := forwardtest.New(false)
	local.SetLeader(false, "https://127.0.0.1:24801")
	o := forward.DefaultOptions()
	o.NotLeader = forwardtest.ErrNotLeader
	g, err := forward.New(local, o)
	require.NoError(t, err)
	return g
}

func TestNotLeaderPrintsTheLeader(t *testing.T) {
	dir, err := os.MkdirTemp("", "ik")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	srv, err := plugin.Serve(filepath.Join(dir, "group"), follower(t), plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	spec := filepath.Join(t.TempDir(), "cattle.json")
	require.NoError(t, os.WriteFile(spec, []byte(cattle), 0o600))

	_, errOut, code := cli(t, "", "--plugin-dir", dir, "group", "commit", spec)
	require.Equal(t, 1, code)
	require.Regexp(t, `^time=\S+ level=fatal msg=not-a-leader leader="https://127.0.0.1:24801"\n$`, errOut,
		"the msg stays the original's; the leader is a field")
}

func TestHost(t *testing.T) {
	certs := t.TempDir()
	o := certgen.DefaultOptions()
	o.Dir, o.Names = certs, []string{"server", "cli"}
	require.NoError(t, certgen.Write(o))
	files := func(name string) plugin.TLSFiles {
		return plugin.TLSFiles{CA: filepath.Join(certs, "ca.pem"), Cert: filepath.Join(certs, name+".pem"), Key: filepath.Join(certs, name+"-key.pem")}
	}
	conf, err := files("server").ServerConfig()
	require.NoError(t, err)
	srv, err := plugin.ServeTCP(follower(t), plugin.TCPOptions{Addr: "127.0.0.1:0", TLS: conf}, plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	host := "tcp://" + srv.Addr().String()
	cli := func(t *testing.T, args ...string) (string, string, int) { return cli(t, "", args...) }
	f := files("cli")

	t.Run("flags", func(t *testing.T) {
		out, errOut, code := cli(t, "--host", host, "--tls-ca", f.CA, "--tls-cert", f.Cert, "--tls-key", f.Key, "manager", "leader")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, "IsLeader:   false\nLocation:   https://127.0.0.1:24801\n", out)
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(envHost, host)
		t.Setenv(envTLSCA, f.CA)
		t.Setenv(envTLSCert, f.Cert)
		t.Setenv(envTLSKey, f.Key)
		_, errOut, code := cli(t, "group", "destroy", "x")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, `msg=not-a-leader leader="https://127.0.0.1:24801"`)
		// The TLS variables alone do not turn a socket call into a TCP one.
		t.Setenv(envHost, "")
		_, errOut, code = cli(t, "--plugin-dir", t.TempDir(), "group", "ls")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "Plugin not found")
	})
	t.Run("no client certificate: refused", func(t *testing.T) {
		_, errOut, code := cli(t, "--host", host, "--tls-ca", f.CA, "group", "ls")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "certificate required")
	})
	for name, args := range map[string][]string{
		"not a tcp URL":          {"--host", "https://127.0.0.1:1", "group", "ls"},
		"TLS flags without host": {"--tls-ca", f.CA, "group", "ls"},
		"cert without key":       {"--host", host, "--tls-ca", f.CA, "--tls-cert", f.Cert, "group", "ls"},
	} {
		t.Run("usage: "+name, func(t *testing.T) {
			_, _, code := cli(t, args...)
			require.Equal(t, 2, code)
		})
	}
}
