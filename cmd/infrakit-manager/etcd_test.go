package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
	"github.com/infrakit-manager/manager/sources/swarm"
)

// execRoot runs the command line and returns its error and stdout.
func execRoot(args ...string) (string, error) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestEtcd_BadTLSMaterialNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name string
		args []string
		file string
	}{
		{"missing CA", []string{"--cacert", missing}, missing},
		{"CA not PEM", []string{"--cacert", notPEM}, notPEM},
		{"missing cert", []string{"--cert", missing, "--key", notPEM}, missing},
		{"bad key pair", []string{"--cert", notPEM, "--key", notPEM}, notPEM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"etcd", "--endpoints", "https://127.0.0.1:1"}, tc.args...)
			_, err := execRoot(args...)
			require.Error(t, err)
			require.True(t, isUsage(err), "exit 2 expected: %v", err)
			require.ErrorContains(t, err, tc.file)
			require.Equal(t, 2, run(args))
		})
	}
	_, err := execRoot("etcd", "--endpoints", "https://127.0.0.1:1", "--cert", notPEM)
	require.ErrorContains(t, err, "--cert and --key must be given together")
	_, err = execRoot("etcd", "--endpoints", "127.0.0.1:2379")
	require.ErrorContains(t, err, "--endpoints")
	_, err = execRoot("etcd", "--endpoints", "http://127.0.0.1:1", "--lease-duration", "2500ms")
	require.ErrorContains(t, err, "--lease-duration")
}

func TestEtcd_ImportExport(t *testing.T) {
	lab := etcdtest.StartLab(t, 1)
	ep := lab.Endpoint(t, 1)
	dir := t.TempDir()
	data, err := os.ReadFile("../../sources/testdata/original-global.config")
	require.NoError(t, err)
	orig, err := sources.DecodeConfig(data)
	require.NoError(t, err)
	in := filepath.Join(dir, "global.config")
	require.NoError(t, os.WriteFile(in, data, 0o600))

	out, err := execRoot("etcd", "--endpoints", ep, "--prefix", "/a", "import", in)
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("%d written", len(orig.Groups)))
	out, err = execRoot("etcd", "--endpoints", ep, "--prefix", "/a", "import", in)
	require.NoError(t, err)
	require.Contains(t, out, "0 written", "import is not idempotent")

	exported := filepath.Join(dir, "exported.config")
	_, err = execRoot("etcd", "--endpoints", ep, "--prefix", "/a", "export", exported)
	require.NoError(t, err)
	back, err := os.ReadFile(exported)
	require.NoError(t, err)
	got, err := sources.DecodeConfig(back)
	require.NoError(t, err)
	sourcestest.RequireEqualConfig(t, orig, got)
	stdout, err := execRoot("etcd", "--endpoints", ep, "--prefix", "/a", "export")
	require.NoError(t, err)
	require.Equal(t, string(back)+"\n", stdout)

	// A Swarm label's value imports the same groups.
	label, err := swarm.EncodeLabel(orig)
	require.NoError(t, err)
	labelFile := filepath.Join(dir, "label.txt")
	require.NoError(t, os.WriteFile(labelFile, []byte(label+"\n"), 0o600))
	out, err = execRoot("etcd", "--endpoints", ep, "--prefix", "/b", "import", labelFile)
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("%d written", len(orig.Groups)))

	// Garbage is refused with its position, and writes nothing.
	bad := filepath.Join(dir, "bad.config")
	require.NoError(t, os.WriteFile(bad, []byte(`{"Groups": {"x": `), 0o600))
	_, err = execRoot("etcd", "--endpoints", ep, "--prefix", "/c", "import", bad)
	require.ErrorContains(t, err, "line 1")
	stdout, err = execRoot("etcd", "--endpoints", ep, "--prefix", "/c", "export")
	require.NoError(t, err)
	require.JSONEq(t, `{"Groups":{}}`, stdout)
}

// TestEtcd_StrictFlagsAndEndpoints: an empty --prefix is refused instead of
// meaning /infrakit, and export from an unreachable endpoint fails within
// --dial-timeout + 5 × --etcd-timeout, naming the endpoint.
func TestEtcd_StrictFlagsAndEndpoints(t *testing.T) {
	_, err := execRoot("etcd", "--endpoints", "http://127.0.0.1:1", "--prefix", "", "export")
	require.ErrorContains(t, err, "--prefix must not be empty")
	start := time.Now()
	_, err = execRoot("etcd", "--endpoints", "http://127.0.0.1:1", "--dial-timeout", "200ms", "--etcd-timeout", "200ms", "export")
	require.ErrorContains(t, err, "http://127.0.0.1:1")
	require.ErrorContains(t, err, "diagnosis: http://127.0.0.1:1: cannot connect")
	t.Logf("export from an unreachable endpoint failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestEtcd_ImportRefusesBadIDs: each bad ID is refused, named, and nothing
// of the file is written.
func TestEtcd_ImportRefusesBadIDs(t *testing.T) {
	lab := etcdtest.StartLab(t, 1)
	ep := lab.Endpoint(t, 1)
	dir := t.TempDir()
	good := `"ok":{"Plugin":"group","Properties":{"ID":"ok"}}`
	for i, tc := range []struct{ name, entry, named string }{
		{"empty", `"":{"Plugin":"group","Properties":{"ID":""}}`, `group ""`},
		{"invalid UTF-8", "\"a\xffb\":{\"Plugin\":\"group\",\"Properties\":{\"ID\":\"a\xffb\"}}", "group \"a\xffb\""},
		{"lone surrogate", `"a\ud800":{"Plugin":"group","Properties":{"ID":"a\ud800"}}`, `group "a\ud800"`},
		{"duplicate", good, `group "ok"`},
		{"key differs from ID", `"web":{"Plugin":"group","Properties":{"ID":"db"}}`, `group "web"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join(dir, fmt.Sprintf("bad%d.config", i))
			require.NoError(t, os.WriteFile(in, []byte(`{"Groups":{`+good+`,`+tc.entry+`}}`), 0o600))
			prefix := fmt.Sprintf("/bad%d", i)
			_, err := execRoot("etcd", "--endpoints", ep, "--prefix", prefix, "import", in)
			require.ErrorContains(t, err, tc.named)
			require.ErrorContains(t, err, "nothing written")
			stdout, err := execRoot("etcd", "--endpoints", ep, "--prefix", prefix, "export")
			require.NoError(t, err)
			require.JSONEq(t, `{"Groups":{}}`, stdout)
		})
	}
}
