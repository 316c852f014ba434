package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/plugin"
	swarmsrc "github.com/infrakit-manager/manager/sources/swarm"
	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// TestForwardSwarm: three swarm-mode managers listening on loopback with
// mutual TLS; the Raft leader's manager publishes its URL in the cluster
// spec label infrakit.leader-location, and a commit sent to a follower is
// answered by the leader.
func TestForwardSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts a Docker Swarm and real processes")
	}
	swarmtest.RequireEngine(t)
	for _, name := range []string{"infrakit-manager", "infrakit-group-sim", "infrakit"} {
		binary(t, name)
	}
	lab := swarmtest.StartLab(t, labManagers)
	root := shortTempDir(t)
	certs := filepath.Join(root, "certs")
	o := certgen.DefaultOptions()
	o.Dir, o.Names = certs, []string{"n1", "n2", "n3", "cli"}
	require.NoError(t, certgen.Write(o))
	pem := func(name string) string { return filepath.Join(certs, name+".pem") }
	key := func(name string) string { return filepath.Join(certs, name+"-key.pem") }

	c := &swarmCluster{t: t, lab: lab, oc: &osCluster{t: t, root: root}}
	t.Cleanup(c.heal)
	c.deleteLabel()
	addr := map[int]string{}
	for i := 1; i <= lab.N(); i++ {
		dir := filepath.Join(root, fmt.Sprintf("n%d", i))
		require.NoError(t, os.Mkdir(dir, 0o700))
		n := &swarmNode{
			osNode: &osNode{c: c.oc, name: nameA, dir: dir, events: filepath.Join(root, fmt.Sprintf("n%d.events", i))},
			i:      i,
			host:   lab.Host(i),
		}
		n.startSim()
		addr[i] = freeLoopbackAddr(t)
		name := fmt.Sprintf("n%d", i)
		n.startManager("--listen", "tcp://"+addr[i], "--tls-cert", pem(name), "--tls-key", key(name), "--tls-ca", pem("ca"))
		c.nodes = append(c.nodes, n)
	}
	leader := c.leader()
	want := "https://" + addr[leader.i]
	for _, f := range c.others(leader) {
		cl := groupClient(t, f.socket())
		require.Eventually(t, func() bool {
			u, err := cl.LeaderLocation(context.Background())
			return err == nil && u != nil && u.String() == want
		}, eventually, 50*time.Millisecond, "node %d never named %s", f.i, want)
	}
	api := c.dockerAPI(leader.i)
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), dockerCallTimeout)
	defer cancel()
	sw, err := api.SwarmInspect(ctx)
	require.NoError(t, err)
	published := sw.Spec.Labels[swarmsrc.DefaultLocationLabel]
	require.Contains(t, published, `"URL":"`+want+`"`, "published in the cluster spec")

	follower := c.others(leader)[0]
	spec := c.oc.writeSpec("cattle", cattleSpec)
	out, errOut, exit := runCLI(t, follower.dir, "--host", "tcp://"+addr[follower.i], "--tls-ca", pem("ca"),
		"--tls-cert", pem("cli"), "--tls-key", key("cli"), "--timeout", "20s", "group", "commit", spec)
	require.Equal(t, 0, exit, errOut)
	require.Contains(t, out, "Committed cattle")
	c.converged(leader, eventually, "cattle")
	st, err := plugin.NewClient(follower.socket(), plugin.ClientOptions{Timeout: 5 * time.Second}).Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, want, st.Leader.String())
	t.Logf("forward: swarm follower n%d forwarded a commit to the Raft leader's manager n%d at %s (%s); label %s",
		follower.i, leader.i, want, strings.TrimSpace(out), published)
}
