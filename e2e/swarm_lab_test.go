package e2e

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The lab's health between and after scenarios, asked of the engines with
// the plain Docker client: every scenario starts from three healthy
// managers and puts them back.

// heal resumes and restarts every engine, promotes back any node that is a
// worker and waits until the three managers are healthy (Ready, one Leader,
// the others Reachable): the state every scenario starts from.
func (c *swarmCluster) heal() {
	t := c.t
	for i := 1; i <= c.lab.N(); i++ {
		c.lab.Start(t, i) // a no-op for a running engine
		c.lab.Signal(t, i, "CONT")
	}
	c.lab.Wait(t)
	for i := 1; i <= c.lab.N(); i++ {
		if !c.isManager(i) {
			c.waitWorker(i)
			c.lab.Promote(t, i)
		}
	}
	c.waitManagers()
}

// swarmInfo asks node i's engine for its swarm status.
func (c *swarmCluster) swarmInfo(i int, timeout time.Duration) (swarm.Info, error) {
	api := c.dockerAPI(i)
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	info, err := api.Info(ctx)
	return info.Swarm, err
}

// isManager asks node i's engine whether it is a swarm manager.
func (c *swarmCluster) isManager(i int) bool {
	c.t.Helper()
	info, err := c.swarmInfo(i, dockerCallTimeout)
	require.NoError(c.t, err, "info of node %d", i)
	return info.ControlAvailable
}

// waitWorker waits until node i is a worker: its engine says it is no
// manager, and it holds a worker certificate. Only then may it be promoted
// again: a node promoted before its worker certificate arrived waits for it
// twice 16 s and restarts its manager (swarmkit's "failed to get worker role
// after manager stop"), so the promotion takes about 35 s instead of 2-3 s.
func (c *swarmCluster) waitWorker(i int) {
	c.t.Helper()
	require.EventuallyWithT(c.t, func(ct *assert.CollectT) {
		info, err := c.swarmInfo(i, 2*time.Second)
		require.NoError(ct, err)
		require.False(ct, info.ControlAvailable, "node %d is still a manager", i)
		require.Equal(ct, []string{"swarm-worker"}, c.certRole(ct, i), "node %d's certificate", i)
	}, promoteWait, 100*time.Millisecond, "node %d did not become a worker", i)
}

// certRole returns the role(s) in node i's swarm TLS certificate (its
// subject's OU): the lab keeps each engine's data root in n<i>/data.
func (c *swarmCluster) certRole(t require.TestingT, i int) []string {
	path := filepath.Join(c.lab.Dir(), fmt.Sprintf("n%d", i), "data", "swarm", "certificates", "swarm-node.crt")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block, "no PEM block in %s", path)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err, "parse %s", path)
	return cert.Subject.OrganizationalUnit
}

// waitManagers waits until every node's engine is an active manager that
// counts all nodes as managers, then for the lab's own health check. The
// lab's check alone is not enough after a promotion: it counts the managers
// the swarm lists, and a promoted node takes seconds to become one; changing
// the swarm again before that broke it here (nodes ended in state "error").
func (c *swarmCluster) waitManagers() {
	c.t.Helper()
	n := c.lab.N()
	require.EventuallyWithT(c.t, func(ct *assert.CollectT) {
		for i := 1; i <= n; i++ {
			info, err := c.swarmInfo(i, 2*time.Second)
			require.NoError(ct, err, "node %d", i)
			require.True(ct, info.LocalNodeState == swarm.LocalNodeStateActive && info.ControlAvailable && info.Managers == n,
				"node %d: state %s, manager %t, managers %d, error %q",
				i, info.LocalNodeState, info.ControlAvailable, info.Managers, info.Error)
		}
	}, promoteWait, 250*time.Millisecond, "not every node is a manager")
	c.lab.Wait(c.t)
}
