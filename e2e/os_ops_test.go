package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// Operations (issue 11) on real processes: /metrics, /healthz and /readyz on
// --metrics-addr, and `infrakit manager status`. Managers listen on port 0;
// the address is read from their "serving metrics and health" log line.

// opsAddr returns the metrics address a node's manager logged.
func (n *osNode) opsAddr() string {
	n.c.t.Helper()
	re := regexp.MustCompile(`serving metrics and health.*"address": ?"([^"]+)"`)
	var addr string
	require.Eventually(n.c.t, func() bool {
		m := re.FindStringSubmatch(n.mgr.Stderr())
		if m == nil {
			return false
		}
		addr = m[1]
		return true
	}, eventually, tick, "node %s logged no metrics address:\n%s", n.name, n.mgr.Stderr())
	return addr
}

// httpGet returns the status and body of GET http://addr/path.
func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + path)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// metric sums the samples of a scrape whose line starts with prefix (a
// metric name, optionally with some of its labels, e.g.
// `workqueue_adds_total{`); 0 when there is none.
func metric(scrape, prefix string) float64 {
	sum := 0.0
	for _, line := range strings.Split(scrape, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	code, body := httpGet(t, addr, "/metrics")
	require.Equal(t, http.StatusOK, code)
	return body
}

// TestOSHealthAcrossCorruptStore: /readyz turns 503 naming the store while
// global.config is corrupt and 200 again once it is fixed; /healthz stays
// 200; a scrape answers throughout.
func TestOSHealthAcrossCorruptStore(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager("--metrics-addr", "127.0.0.1:0")
	addr := a.opsAddr()

	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	good := fileBytes(t, c.storePath())

	code, body := httpGet(t, addr, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "ok", body)

	writeFileAtomic(t, c.storePath(), good[:len(good)/2])
	code, body = httpGet(t, addr, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "store: ")
	require.Contains(t, body, "global.config")
	code, body = httpGet(t, addr, "/healthz")
	require.Equal(t, http.StatusOK, code, "a corrupt store is not a dead process: %s", body)
	require.Contains(t, scrape(t, addr), "go_goroutines")

	writeFileAtomic(t, c.storePath(), good)
	code, body = httpGet(t, addr, "/readyz")
	require.Equal(t, http.StatusOK, code, body)
}

// TestOSMetricsBadAddress: a --metrics-addr that cannot be bound exits 2
// naming the address, before the manager serves anything.
func TestOSMetricsBadAddress(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager("--metrics-addr", "127.0.0.1:0")
	taken := a.opsAddr()

	b := c.node(nameB)
	p := startProc(t, binary(t, "infrakit-manager"), nil, b.managerArgs("--metrics-addr", taken)...)
	require.Equal(t, 2, p.Wait(eventually))
	require.Contains(t, p.Stderr(), "cannot listen on --metrics-addr "+taken)
}

// TestOSMetricsAcrossCommitResyncFlip scrapes both managers across a
// commit, a resync and a leadership flip and checks that the counters the
// controller feeds moved. It needs the controller to record into the
// metrics cmd hands it (see the ops hooks: workqueue.Options.Metrics,
// sink.Options.Observer, plugin.ServerOptions.Observer, ops.Metrics).
func TestOSMetricsAcrossCommitResyncFlip(t *testing.T) {
	c := newOSCluster(t, nameA)
	a, b := c.node(nameA), c.node(nameB)
	for _, n := range []*osNode{a, b} {
		n.startSim()
		n.startManager("--metrics-addr", "127.0.0.1:0")
	}
	addrA, addrB := a.opsAddr(), b.opsAddr()
	require.Eventually(t, func() bool {
		return metric(scrape(t, addrA), `leader_election_master_status{name="group"}`) == 1
	}, eventually, tick, "A leads")
	before := scrape(t, addrA)

	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)
	afterCommit := scrape(t, addrA)
	for _, m := range []string{
		`infrakit_manager_group_api_requests_total{code="0",method="Group.CommitGroup"}`,
		`infrakit_manager_downstream_call_duration_seconds_count{method="CommitGroup",result="ok"}`,
		`infrakit_manager_store_save_duration_seconds_count{result="ok"}`,
	} {
		require.Greater(t, metric(afterCommit, m), metric(before, m), "%s did not move across a commit", m)
	}
	require.Equal(t, 1.0, metric(afterCommit, "infrakit_manager_stored_groups "))

	// A resync (every 500ms here) re-checks every group: reconciles keep
	// counting with nothing committed. A group found in sync is settled by
	// the resync itself (controller/reconciler settle), without queue
	// traffic, so the queue's counters need not move.
	require.Eventually(t, func() bool {
		now := scrape(t, addrA)
		return metric(now, `controller_runtime_reconcile_total{`) > metric(afterCommit, `controller_runtime_reconcile_total{`)+1
	}, eventually, tick, "no resync seen in the metrics")
	require.Greater(t, metric(afterCommit, `workqueue_adds_total{`), metric(before, `workqueue_adds_total{`), "a commit goes through the queue")
	require.Greater(t, metric(scrape(t, addrA), `controller_runtime_reconcile_time_seconds_count{`), 0.0)

	beforeFlipB := scrape(t, addrB)
	c.setLeader(nameB)
	require.Eventually(t, func() bool {
		sa, sb := scrape(t, addrA), scrape(t, addrB)
		return metric(sa, `leader_election_master_status{name="group"}`) == 0 &&
			metric(sb, `leader_election_master_status{name="group2"}`) == 1 &&
			metric(sa, "infrakit_manager_leadership_transitions_total") >= 1 &&
			metric(sb, "infrakit_manager_leadership_transitions_total") > metric(beforeFlipB, "infrakit_manager_leadership_transitions_total")
	}, eventually, tick, "the flip did not show in leader_election_master_status and the transition counters")
	require.Eventually(t, func() bool {
		sa, sb := scrape(t, addrA), scrape(t, addrB)
		return metric(sa, `infrakit_manager_downstream_call_duration_seconds_count{method="FreeGroup",result="ok"}`) >= 1 &&
			metric(sb, `infrakit_manager_downstream_call_duration_seconds_count{method="CommitGroup",result="ok"}`) >= 1
	}, eventually, tick, "the old leader's free and the new leader's commit did not show")
}

// TestOSManagerStatus: `infrakit manager status` on the leader and on the
// follower, text and JSON, before and after a flip. It needs the
// controller's served Group to implement plugin.Manager.
func TestOSManagerStatus(t *testing.T) {
	c := newOSCluster(t, nameA)
	a, b := c.twoNodes()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)

	// status is the JSON status of n, and the CLI's output when it failed.
	status := func(n *osNode) (plugin.ManagerStatus, string) {
		out, errOut, exit := runCLI(t, n.dir, "manager", "--name", n.name, "status", "-o", "json")
		var s struct {
			plugin.ManagerStatus
			Leader *string // -o json prints the leader's URL as a string
		}
		if exit != 0 || json.Unmarshal([]byte(out), &s) != nil {
			return s.ManagerStatus, "exit " + strconv.Itoa(exit) + ": " + out + errOut
		}
		return s.ManagerStatus, ""
	}
	check := func(n *osNode, role string) {
		t.Helper()
		var s plugin.ManagerStatus
		require.EventuallyWithT(t, func(ct *assert.CollectT) {
			var failed string
			s, failed = status(n)
			require.Empty(ct, failed, "status of %s", n.name)
			require.Equal(ct, role, s.Role, "role of %s", n.name)
			require.Equal(ct, 1, s.GroupCount, "groups seen by %s's last store read", n.name)
		}, eventually, tick)
		require.Equal(t, n.name, s.Name)
		require.Equal(t, "os", s.Mode)
		require.True(t, s.Healthy, "problems: %v", s.Problems)
		require.Equal(t, 1, s.GroupCount)
		require.Equal(t, []plugin.ID{"cattle"}, s.Stored, "%s lists the stored groups, follower or not", n.name)
		require.Contains(t, s.Store.Location, c.storeDir)
		require.NotEmpty(t, s.Store.Version)
		require.NotEmpty(t, s.Lease)
		if role == plugin.RoleLeader {
			require.Positive(t, s.Term)
			require.Len(t, s.Groups, 1)
			require.Equal(t, plugin.ID("cattle"), s.Groups[0].ID)
			require.NotEmpty(t, s.Groups[0].LastAction)
			require.False(t, s.Groups[0].LastTime.IsZero())
		}
		out, errOut, exit := runCLI(t, n.dir, "manager", "--name", n.name, "status")
		require.Equal(t, 0, exit, errOut)
		require.Regexp(t, `(?m)^Role: +`+role+`$`, out)
	}
	check(a, plugin.RoleLeader)
	check(b, plugin.RoleFollower)

	out, errOut, exit := runCLI(t, a.dir, "manager", "--name", a.name, "leader")
	require.Equal(t, 0, exit, errOut)
	require.Contains(t, out, "IsLeader:   true\n")

	c.setLeader(nameB)
	check(b, plugin.RoleLeader)
	check(a, plugin.RoleFollower)
	out, errOut, exit = runCLI(t, a.dir, "manager", "--name", a.name, "leader")
	require.Equal(t, 0, exit, errOut)
	require.Contains(t, out, "IsLeader:   false\n")
}
