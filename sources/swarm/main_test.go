package swarm

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// labNodes is the size of the lab every test of this binary shares.
const labNodes = 3

// shared is the one lab of this test binary, started by the first test
// that needs it and torn down by TestMain. Tests using it run one at a time
// and leave it healthy (every manager Reachable).
var shared struct {
	once sync.Once
	lab  *swarmtest.Lab
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.lab != nil {
		if err := shared.lab.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "swarm lab teardown: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedLab returns the binary's lab, starting it on first use.
func sharedLab(t *testing.T) *swarmtest.Lab {
	t.Helper()
	swarmtest.RequireEngine(t)
	shared.once.Do(func() {
		start := time.Now()
		shared.lab, shared.err = swarmtest.NewLab(context.Background(), labNodes)
		t.Logf("started a %d-manager swarm lab in %s", labNodes, time.Since(start).Round(time.Millisecond))
	})
	if shared.err != nil {
		t.Fatalf("start swarm lab: %v", shared.err)
	}
	return shared.lab
}

// newClient returns a Client for host with a call timeout, closed at cleanup.
func newClient(t *testing.T, host string, timeout time.Duration) *Client {
	t.Helper()
	opts := DefaultClientOptions()
	opts.Host = host
	opts.CallTimeout = timeout
	c, err := NewClient(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawAPI is a plain Docker client for changing the swarm behind a Store's
// back, closed at cleanup.
func rawAPI(t *testing.T, host string) *client.Client {
	t.Helper()
	api, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	return api
}

// setRawLabel sets (or, with del, removes) one cluster-spec label, retrying
// on "update out of sequence".
func setRawLabel(t *testing.T, api *client.Client, key, value string, del bool) {
	t.Helper()
	require.NoError(t, trySetRawLabel(api, key, value, del))
}

func trySetRawLabel(api *client.Client, key, value string, del bool) error {
	var err error
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var sw swarm.Swarm
		sw, err = api.SwarmInspect(ctx)
		if err == nil {
			spec := sw.Spec
			labels := map[string]string{}
			for k, v := range spec.Labels {
				labels[k] = v
			}
			if del {
				delete(labels, key)
			} else {
				labels[key] = value
			}
			spec.Labels = labels
			err = api.SwarmUpdate(ctx, sw.Version, spec, swarm.UpdateFlags{})
		}
		cancel()
		if err == nil || !strings.Contains(err.Error(), "out of sequence") {
			return err
		}
	}
	return err
}

// rawLabels returns the cluster spec's labels.
func rawLabels(t *testing.T, api *client.Client) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sw, err := api.SwarmInspect(ctx)
	require.NoError(t, err)
	return sw.Spec.Labels
}

// testLabel returns a label name unique to t and removes the label at
// cleanup, so tests sharing the lab never see each other's data and the
// cluster object stays small.
func testLabel(t *testing.T, api *client.Client) string {
	t.Helper()
	name := fmt.Sprintf("infrakit-test-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		if err := trySetRawLabel(api, name, "", true); err != nil {
			t.Errorf("remove test label %s: %v", name, err)
		}
	})
	return name
}
