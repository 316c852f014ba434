package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Issue 21 on real processes over loopback: three managers (m1 leads), each
// listening on its own 127.0.0.1 port with mutual TLS; the CLI and Go
// clients talk to the followers. Figures are printed as "forward:" lines.

func TestForwardThroughFollowers(t *testing.T) {
	c := newTLSCluster(t, nil)
	m1, m2, m3 := c.nodes[0], c.nodes[1], c.nodes[2]

	c.run(t, "commit describe destroy through each follower", func(t *testing.T) {
		for _, f := range []*osNode{m2, m3} {
			id := "web-" + f.name
			spec := c.writeSpec(id, strings.Replace(cattleSpec, `"cattle"`, `"`+id+`"`, 1))
			out, errOut, exit := runCLI(t, f.dir, append(c.cliArgs(f.name), "group", "commit", spec)...)
			require.Equal(t, 0, exit, errOut)
			require.Contains(t, out, "Committed "+id)
			require.Eventually(t, func() bool { return slices.Contains(m1.running(), id) }, eventually, tick,
				"the leader's downstream runs %s", id)
			require.Empty(t, f.running(), "the follower's downstream runs nothing")

			out, errOut, exit = runCLI(t, f.dir, append(c.cliArgs(f.name), "group", "describe", id)...)
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, 3, len(nonEmptyLines(out)), "header and the leader's two instances:\n%s", out)
			instances := len(nonEmptyLines(out)) - 1

			out, errOut, exit = runCLI(t, f.dir, append(c.cliArgs(f.name), "group", "ls", "-q")...)
			require.Equal(t, 0, exit, errOut)
			require.Contains(t, strings.Fields(out), id)

			out, errOut, exit = runCLI(t, f.dir, append(c.cliArgs(f.name), "group", "destroy", id)...)
			require.Equal(t, 0, exit, errOut)
			require.Contains(t, out, "destroy "+id+" initiated")
			require.NotContains(t, c.stored(), id)
			require.Eventually(t, func() bool { return !slices.Contains(m1.running(), id) }, eventually, tick)
			t.Logf("forward: follower=%s commit, describe (%d instances), ls, destroy answered by the leader %s",
				f.name, instances, c.url("m1"))
		}
		// The follower's own socket forwards too.
		spec := c.writeSpec("local", strings.Replace(petsSpec, `"pets"`, `"local"`, 1))
		_, errOut, exit := m2.cli("commit", spec)
		require.Equal(t, 0, exit, errOut)
		require.Contains(t, c.stored(), "local")
	})

	c.run(t, "status and readyz name the leader", func(t *testing.T) {
		out, errOut, exit := runCLI(t, m3.dir, append(c.cliArgs("m3"), "manager", "status")...)
		require.Contains(t, []int{0, 1}, exit, errOut)
		require.Regexp(t, `Role:\s+follower`, out)
		require.Regexp(t, `Leader:\s+`+c.url("m1"), out)
		out, errOut, exit = runCLI(t, m3.dir, append(c.cliArgs("m3"), "manager", "leader")...)
		require.Equal(t, 0, exit, errOut)
		require.Contains(t, out, "Location:   "+c.url("m1"))
	})

	c.run(t, "refused and logged", func(t *testing.T) {
		refusals := func() int { return strings.Count(m2.mgr.Stderr(), "refused connection") }
		cases := []struct {
			name string
			args []string
			log  string
		}{
			{"no client certificate", []string{"--host", "tcp://" + c.addr["m2"], "--tls-ca", c.pem("ca")}, "certificate"},
			{"certificate from another CA", []string{"--host", "tcp://" + c.addr["m2"], "--tls-ca", c.pem("ca"),
				"--tls-cert", c.pem("intruder"), "--tls-key", c.key("intruder")}, "certificate"},
			{"plaintext to the TLS port", []string{"--host", "tcp://" + c.addr["m2"]}, "HTTP request to an HTTPS server"},
		}
		for _, tc := range cases {
			before := refusals()
			_, errOut, exit := runCLI(t, m2.dir, append(tc.args, "group", "ls")...)
			require.Equal(t, 1, exit, tc.name)
			require.Contains(t, errOut, "level=fatal", tc.name)
			require.Eventually(t, func() bool { return refusals() > before }, eventually, tick, "%s not logged", tc.name)
			require.Contains(t, m2.mgr.Stderr(), tc.log)
			t.Logf("forward: refused %s: exit %d, logged by the manager", tc.name, exit)
		}

		// A request claiming two hops.
		conf, err := plugin.TLSFiles{CA: c.pem("ca"), Cert: c.pem("m3"), Key: c.key("m3")}.ClientConfig()
		require.NoError(t, err)
		tr := &http.Transport{TLSClientConfig: conf}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodPost, c.url("m2")+"/", strings.NewReader(
			`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"twice","Properties":{}}},"id":1}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add(plugin.HeaderForwarded, c.url("m3"))
		req.Header.Add(plugin.HeaderForwarded, c.url("m1"))
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
		require.NoError(t, err)
		var ans rpcAnswer
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
		_ = resp.Body.Close()
		require.NotNil(t, ans.Error)
		require.Equal(t, plugin.CodeInvalidRequest, ans.Error.Code)
		require.Contains(t, ans.Error.Message, "forwarded more than once")
		require.NotContains(t, c.stored(), "twice")
		require.Contains(t, m2.mgr.Stderr(), "refused request")
		t.Logf("forward: refused a request forwarded twice: %d %q, logged", ans.Error.Code, ans.Error.Message)

		// A leader location pointing to the follower itself: nobody the
		// managers know leads ("m9") and the location file names m2's URL.
		c.setLeader("m9")
		for _, n := range c.nodes {
			cl := plugin.NewClient(n.socket(), plugin.ClientOptions{Timeout: 5 * time.Second})
			require.Eventually(t, func() bool { l, err := cl.IsLeader(context.Background()); return err == nil && !l }, eventually, tick)
			cl.Close()
		}
		loc, err := json.Marshal(sources.Location{Holder: "m9", URL: c.url("m2")})
		require.NoError(t, err)
		writeFileAtomic(t, c.leaderFile+".location", loc)
		spec := c.writeSpec("self", strings.Replace(petsSpec, `"pets"`, `"self"`, 1))
		require.Eventually(t, func() bool {
			_, errOut, _ := runCLI(t, m2.dir, append(c.cliArgs("m2"), "--timeout", "3s", "group", "commit", spec)...)
			return strings.Contains(errOut, "points to this manager itself")
		}, eventually, 200*time.Millisecond)
		require.Contains(t, m2.mgr.Stderr(), "refused to forward")
		// Through m3: forwarded to m2, which does not lead and never forwards
		// it again; the caller learns where the leader is said to be.
		_, errOut, exit := runCLI(t, m3.dir, append(c.cliArgs("m3"), "--timeout", "3s", "group", "commit", spec)...)
		require.Equal(t, 1, exit)
		require.Contains(t, errOut, "msg=not-a-leader")
		require.Contains(t, errOut, `leader="`+c.url("m2")+`"`, "the CLI prints the leader's location")
		require.Contains(t, m2.mgr.Stderr(), "refused forwarded request")
		require.NotContains(t, c.stored(), "self")
		t.Logf("forward: refused a leader location pointing to the follower itself; a forwarded request was not forwarded again (%s)",
			strings.TrimSpace(errOut))
		c.setLeader("m1")
		c.waitLocation("m1")
	})
}

// TestForwardLeaderDiesInFlight kills the leader while a forwarded commit
// waits on its slow downstream: the caller gets an error before its
// deadline, and the group is stored once or not at all.
func TestForwardLeaderDiesInFlight(t *testing.T) {
	c := newTLSCluster(t, map[string][]string{"m1": {"--latency", "1500ms"}})
	m1 := c.nodes[0]
	cl := c.client("m3", "cli", 10*time.Second)
	const deadline = 10 * time.Second
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		_, err := cl.CommitGroup(ctx, faultSpec("inflight"), false)
		done <- err
	}()
	// Let the call reach the leader's slow downstream (a pretend commit,
	// then the commit itself, 1.5 s each), then kill the leader.
	time.Sleep(700 * time.Millisecond)
	m1.mgr.Kill()
	var err error
	select {
	case err = <-done:
	case <-time.After(deadline + 5*time.Second):
		t.Fatal("the forwarded call did not end after its deadline")
	}
	took := time.Since(start)
	require.Error(t, err, "the leader died mid-call")
	stored := c.stored()
	n := 0
	for _, id := range stored {
		if id == "inflight" {
			n++
		}
	}
	require.LessOrEqual(t, n, 1)
	t.Logf("forward: leader killed in flight: caller error after %s (deadline %s), stored %d time(s): %v",
		took.Round(time.Millisecond), deadline, n, err)
}
