package e2e

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	swarmsrc "github.com/infrakit-manager/manager/sources/swarm"
)

// What the swarm tests do to the swarm behind the managers' backs, with the
// plain Docker client rather than sources/swarm's: read, replace or delete
// the "infrakit" label, or change other parts of the cluster spec. Values
// are written with EncodeLabel (another writer's valid config) or by hand
// (garbage), and decodeLabelByHand checks a value with the standard library
// only, independently of the code under test.

// labelKey is the cluster-spec label the managers store their config in.
const labelKey = "infrakit"

// dockerCallTimeout bounds one Docker API call of the tests. Calls take
// milliseconds; a follower with no leader hangs 20 s.
const dockerCallTimeout = 10 * time.Second

// dockerAPI opens a Docker client on lab node i; the caller closes it.
func (c *swarmCluster) dockerAPI(i int) *client.Client {
	c.t.Helper()
	api, err := client.NewClientWithOpts(client.WithHost(c.lab.Host(i)), client.WithAPIVersionNegotiation())
	require.NoError(c.t, err)
	return api
}

// rawLabel reads the label through node i's engine; ok is false when the
// cluster spec has no such label.
func (c *swarmCluster) rawLabel(i int) (value string, ok bool) {
	c.t.Helper()
	api := c.dockerAPI(i)
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), dockerCallTimeout)
	defer cancel()
	sw, err := api.SwarmInspect(ctx)
	require.NoError(c.t, err, "swarm inspect through node %d", i)
	value, ok = sw.Spec.Labels[labelKey]
	return value, ok
}

// setLabel writes value into the label through the leader's engine (with
// del, removes the label), as another writer would; other labels and the
// rest of the spec are kept.
func (c *swarmCluster) setLabel(value string, del bool) {
	c.t.Helper()
	updateSwarmSpec(c.t, c.lab.Host(c.lab.Leader(c.t)), func(spec *swarm.Spec) {
		labels := map[string]string{}
		for k, v := range spec.Labels {
			labels[k] = v
		}
		if del {
			delete(labels, labelKey)
		} else {
			labels[labelKey] = value
		}
		spec.Labels = labels
	})
}

// updateSwarmSpec applies mutate to the cluster spec through the engine at
// host, retrying when the spec changed meanwhile ("update out of sequence").
func updateSwarmSpec(t *testing.T, host string, mutate func(*swarm.Spec)) {
	t.Helper()
	api, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	defer api.Close()
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), dockerCallTimeout)
		var sw swarm.Swarm
		if sw, err = api.SwarmInspect(ctx); err == nil {
			spec := sw.Spec
			mutate(&spec)
			err = api.SwarmUpdate(ctx, sw.Version, spec, swarm.UpdateFlags{})
		}
		cancel()
		if err == nil || !strings.Contains(err.Error(), "out of sequence") {
			break
		}
	}
	require.NoError(t, err, "update the swarm spec through %s", host)
}

// deleteLabel removes the stored config.
func (c *swarmCluster) deleteLabel() { c.setLabel("", true) }

// setConfig stores a config in the label in the original's format, as
// another writer (the original manager, say) would.
func (c *swarmCluster) setConfig(specs ...string) {
	c.t.Helper()
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for _, s := range specs {
		var spec plugin.Spec
		require.NoError(c.t, json.Unmarshal([]byte(s), &spec))
		cfg.Groups[spec.ID] = sources.Entry{Plugin: downstream, Properties: json.RawMessage(s)}
	}
	v, err := swarmsrc.EncodeLabel(cfg)
	require.NoError(c.t, err)
	c.setLabel(v, false)
}

// labelGroups decodes the label (read through node i) with DecodeLabel and
// returns the stored group IDs, sorted.
func (c *swarmCluster) labelGroups(i int) []string {
	c.t.Helper()
	v, ok := c.rawLabel(i)
	require.True(c.t, ok, "no %q label", labelKey)
	cfg, err := swarmsrc.DecodeLabel(v)
	require.NoError(c.t, err)
	return groupIDs(cfg)
}

// groupIDs lists a config's group IDs, sorted.
func groupIDs(cfg sources.Config) []string {
	ids := []string{}
	for id := range cfg.Groups {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	return ids
}

// rawEntry is one stored group as the original wrote it.
type rawEntry struct {
	Plugin     string
	Properties json.RawMessage
}

// decodeLabelByHand undoes the original's encoding with the standard
// library only: base64 (StdEncoding, padded), zlib, JSON. It returns the
// JSON document and its groups.
func decodeLabelByHand(t *testing.T, value string) ([]byte, map[string]rawEntry) {
	t.Helper()
	compressed, err := base64.StdEncoding.DecodeString(value)
	require.NoError(t, err, "label is not padded standard base64")
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	require.NoError(t, err, "label is not zlib")
	doc, err := io.ReadAll(zr)
	require.NoError(t, err, "label zlib stream")
	require.NoError(t, zr.Close())
	var cfg struct{ Groups map[string]rawEntry }
	require.NoError(t, json.Unmarshal(doc, &cfg), "label JSON:\n%s", doc)
	return doc, cfg.Groups
}
