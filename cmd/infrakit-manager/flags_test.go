package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOptionErrorsNameTheFlags: the libraries' validation errors name
// Options fields; what the user reads names the flag to change.
func TestOptionErrorsNameTheFlags(t *testing.T) {
	dir := t.TempDir()
	leader := filepath.Join(dir, "leader")
	require.NoError(t, os.WriteFile(leader, []byte("someone-else\n"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "configs"), 0o700))
	osArgs := []string{"--plugin-dir", filepath.Join(dir, "plugins"), "--leader-file", leader, "--store-dir", filepath.Join(dir, "configs")}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"controller duration", []string{"--poll-interval", "0s"}, "--poll-interval must be > 0, got 0s"},
		{"controller relation", []string{"--poll-interval", "2s", "--lease-duration", "2s"}, "--poll-interval (2s) must be at most half of --lease-duration (2s)"},
		{"controller workers", []string{"--workers", "0"}, "--workers must be > 0, got 0"},
		{"controller max backoff", []string{"--max-backoff", "0s"}, "--max-backoff must be > 0, got 0s"},
		{"controller names", []string{"--name", "x", "--proxy-for-group", "x"}, `--name and --proxy-for-group are both "x"`},
		{"file store size", []string{"--max-config-bytes", "0"}, "--max-config-bytes must be > 0, got 0"},
		{"file store dir", []string{"--store-dir", filepath.Join(dir, "typo")}, "--store-dir " + filepath.Join(dir, "typo") + ": store does not exist: create it (mkdir), or set --store-create"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := execRoot(append(append([]string{"os", "--once"}, osArgs...), c.args...)...)
			require.ErrorContains(t, err, c.want)
			require.NotContains(t, err.Error(), "RenewInterval")
		})
	}
	t.Run("swarm", func(t *testing.T) {
		_, err := execRoot("swarm", "--host", "unix:///nonexistent.sock", "--max-label-bytes", "0")
		require.ErrorContains(t, err, "--max-label-bytes must be in 1..1572864, got 0")
		_, err = execRoot("swarm", "--host", "unix:///nonexistent.sock", "--engine-timeout", "0s")
		require.ErrorContains(t, err, "--engine-timeout must be > 0, got 0s")
		_, err = execRoot("swarm", "--host", "unix:///nonexistent.sock", "--tlscacert", filepath.Join(dir, "missing.pem"))
		require.ErrorContains(t, err, "--tlscacert cannot be read (the CA certificate): open ")
	})
	t.Run("etcd", func(t *testing.T) {
		_, err := execRoot("etcd", "--endpoints", "http://127.0.0.1:1", "--dial-timeout", "0s")
		require.ErrorContains(t, err, "--dial-timeout must be > 0, got 0s")
		_, err = execRoot("etcd", "--endpoints", "http://127.0.0.1:1", "--prefix", "noslash", "export")
		require.ErrorContains(t, err, `--prefix "noslash" must start with '/'`)
		missing := filepath.Join(dir, "missing.pem")
		_, err = execRoot("etcd", "--endpoints", "https://127.0.0.1:1", "--cacert", missing)
		require.ErrorContains(t, err, "bad TLS file: --cacert "+missing)
	})
}
