package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Helpers of the fault suite (fault_*_test.go). The processes, sockets and
// the os-mode cluster come from binaries_test.go and os_cluster_test.go;
// what is here talks to them through the Go client rather than the CLI, so
// that checks polled in require.Eventually stay cheap.

// faultCallTimeout bounds one Go client call of the fault tests. It is far
// above anything the tests provoke, so a call that hits it means a hang.
const faultCallTimeout = 20 * time.Second

// faultSpec is a small valid group: one instance.
func faultSpec(id string) plugin.Spec {
	return plugin.Spec{
		ID: plugin.ID(id),
		Properties: json.RawMessage(`{"Allocation":{"Size":1},` +
			`"Instance":{"Plugin":"instance-file","Properties":{"Note":"fault suite"}},` +
			`"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Tags":{"suite":"fault"}}}}`),
	}
}

// groupClient returns a Go client for the plugin socket at path, closed
// when the test ends.
func groupClient(t *testing.T, path string) *plugin.Client {
	t.Helper()
	c := plugin.NewClient(path, plugin.ClientOptions{Timeout: faultCallTimeout})
	t.Cleanup(c.Close)
	return c
}

// downstreamSocket is the node's downstream (simulator) socket.
func (n *osNode) downstreamSocket() string { return filepath.Join(n.dir, downstream) }

// simGroups lists, sorted, the groups the node's downstream runs, asked
// with the Go client (not through the manager).
func (n *osNode) simGroups(ctx context.Context) ([]string, error) {
	c := plugin.NewClient(n.downstreamSocket(), plugin.ClientOptions{Timeout: 5 * time.Second})
	defer c.Close()
	specs, err := c.InspectGroups(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(specs))
	for _, s := range specs {
		ids = append(ids, string(s.ID))
	}
	slices.Sort(ids)
	return ids, nil
}

// simRuns reports whether the node's downstream answers and runs exactly ids.
func (n *osNode) simRuns(ctx context.Context, ids ...string) bool {
	got, err := n.simGroups(ctx)
	if err != nil {
		return false
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	return slices.Equal(got, want)
}

// storeGroups writes the store file holding ids (as the manager stores
// them) and returns them sorted.
func (c *osCluster) storeGroups(ids ...string) []string {
	c.t.Helper()
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for _, id := range ids {
		whole, err := json.Marshal(faultSpec(id))
		require.NoError(c.t, err)
		cfg.Groups[plugin.ID(id)] = sources.Entry{Plugin: downstream, Properties: whole}
	}
	data, err := sources.EncodeConfig(cfg)
	require.NoError(c.t, err)
	writeFileAtomic(c.t, c.storePath(), data)
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// dirDigest fingerprints every entry of dir (name, mode and, for regular
// files, content), so that "nothing changed" covers stray temp files too.
func dirDigest(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	h := sha256.New()
	for _, e := range entries {
		fi, err := e.Info()
		require.NoError(t, err)
		fmt.Fprintf(h, "%s %s\n", e.Name(), fi.Mode())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			sum := sha256.Sum256(data)
			h.Write(sum[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idSet is a set of group IDs.
type idSet map[string]bool

func setOf(ids []string) idSet {
	s := idSet{}
	for _, id := range ids {
		s[id] = true
	}
	return s
}

// missing returns the members of want that s lacks, sorted.
func (s idSet) missing(want []string) []string {
	var out []string
	for _, id := range want {
		if !s[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
