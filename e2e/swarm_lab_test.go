package e2e

import (
	"context"
	"time"

	"github.com/docker/docker/api/types/swarm"
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
			c.lab.Promote(t, i) // waits for the worker certificate, then for all managers
		}
	}
	c.lab.WaitAll(t)
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
