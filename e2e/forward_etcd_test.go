package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
)

// TestForwardEtcd: three etcd-mode managers listening on loopback with
// mutual TLS; the leader publishes <prefix>/leader-location, a follower
// forwards a commit, and after kill -9 of the leader a commit sent to a
// follower is answered by the new leader.
func TestForwardEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: starts an etcd cluster and real processes")
	}
	etcdtest.RequireEtcd(t)
	lab := etcdtest.StartLab(t, 3)
	root := shortTempDir(t)
	certs := filepath.Join(root, "certs")
	o := certgen.DefaultOptions()
	o.Dir, o.Names = certs, []string{"n1", "n2", "n3", "cli"}
	require.NoError(t, certgen.Write(o))
	pem := func(name string) string { return filepath.Join(certs, name+".pem") }
	key := func(name string) string { return filepath.Join(certs, name+"-key.pem") }
	cli, err := clientv3.New(clientv3.Config{Endpoints: lab.Endpoints(t), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	prefix := fmt.Sprintf("/e2e-fwd/%d", time.Now().UnixNano())
	oc := &osCluster{t: t, root: root}

	addr := map[int]string{}
	var nodes []*osNode
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(root, fmt.Sprintf("n%d", i))
		require.NoError(t, os.Mkdir(dir, 0o700))
		n := &osNode{c: oc, name: nameA, dir: dir, events: filepath.Join(root, fmt.Sprintf("n%d.events", i))}
		n.startSim()
		addr[i] = freeLoopbackAddr(t)
		c := fmt.Sprintf("n%d", i)
		n.mgr = startProc(t, binary(t, "infrakit-manager"), nil, "--name", n.name, "--plugin-dir", n.dir,
			"--listen", "tcp://"+addr[i], "--tls-cert", pem(c), "--tls-key", key(c), "--tls-ca", pem("ca"),
			"etcd", "--endpoints", strings.Join(lab.Endpoints(t), ","), "--prefix", prefix,
			"--candidate", c, "--lease-duration", etcdLease.String())
		waitSocket(t, n.socket(), n.mgr)
		nodes = append(nodes, n)
	}
	// published names the node whose URL <prefix>/leader-location holds, once
	// it holds the election too.
	published := func(except int) int {
		found := 0
		require.Eventually(t, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			resp, err := cli.Get(ctx, prefix+"/leader-location")
			if err != nil || len(resp.Kvs) == 0 {
				return false
			}
			for i, a := range addr {
				if i != except && strings.Contains(string(resp.Kvs[0].Value), `"URL":"https://`+a+`"`) &&
					strings.Contains(string(resp.Kvs[0].Value), fmt.Sprintf(`"Holder":"n%d"`, i)) {
					found = i
					return true
				}
			}
			return false
		}, 3*etcdLease, tick, "no leader location published")
		return found
	}
	tcpCLI := func(i int, args ...string) (string, string, int) {
		return runCLI(t, nodes[i-1].dir, append([]string{"--host", "tcp://" + addr[i], "--tls-ca", pem("ca"),
			"--tls-cert", pem("cli"), "--tls-key", key("cli"), "--timeout", "25s", "group"}, args...)...)
	}

	leader := published(0)
	follower := leader%3 + 1
	out, errOut, exit := tcpCLI(follower, "commit", oc.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	require.Contains(t, out, "Committed cattle")
	require.Eventually(t, func() bool { return slices.Contains(nodes[leader-1].running(), "cattle") }, eventually, tick)
	t.Logf("forward: etcd follower n%d forwarded a commit to the leader n%d (%s)", follower, leader, strings.TrimSpace(out))

	killed := time.Now()
	nodes[leader-1].mgr.Kill()
	out, errOut, exit = tcpCLI(follower, "commit", oc.writeSpec("pets", petsSpec))
	require.Equal(t, 0, exit, errOut)
	next := published(leader)
	require.Eventually(t, func() bool { return slices.Contains(nodes[next-1].running(), "pets") }, eventually, tick)
	t.Logf("forward: etcd kill -9 of the leader n%d: a commit sent to n%d was answered by the new leader n%d after %s",
		leader, follower, next, time.Since(killed).Round(time.Millisecond))
}
