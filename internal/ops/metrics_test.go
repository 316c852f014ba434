package ops

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

func TestMetrics_Methods(t *testing.T) {
	m := NewMetrics(MetricsOptions{Controller: "group", LeaseName: "mgr-a"})

	m.ReconcileDone(ResultSuccess, 20*time.Millisecond)
	m.ReconcileDone(ResultError, time.Millisecond)
	m.ReconcileDone(ResultError, time.Millisecond)
	require.Equal(t, 1.0, testutil.ToFloat64(m.reconcileTotal.WithLabelValues("group", ResultSuccess)))
	require.Equal(t, 2.0, testutil.ToFloat64(m.reconcileTotal.WithLabelValues("group", ResultError)))
	require.Equal(t, 2.0, testutil.ToFloat64(m.reconcileErrors.WithLabelValues("group")))

	require.Equal(t, 0.0, testutil.ToFloat64(m.masterStatus.WithLabelValues("mgr-a")), "backup until told")
	m.SetLeader(false) // first value known: no transition
	m.SetLeader(true)
	m.SetLeader(true)
	m.SetLeader(false)
	require.Equal(t, 2.0, testutil.ToFloat64(m.transitions))
	require.Equal(t, 0.0, testutil.ToFloat64(m.masterStatus.WithLabelValues("mgr-a")))
	m.SetTerm(3)
	require.Equal(t, 3.0, testutil.ToFloat64(m.term))

	m.SetLease("held")
	m.SetLease("expired")
	require.Equal(t, 0.0, testutil.ToFloat64(m.leaseState.vec.WithLabelValues("held")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.leaseState.vec.WithLabelValues("expired")))

	m.StoreSaved(time.Millisecond, nil)
	m.StoreSaved(time.Millisecond, errors.New("disk full"))
	require.Equal(t, 2, testutil.CollectAndCount(m.storeSave))
	m.SetStoredGroups(10000)
	require.Equal(t, 10000.0, testutil.ToFloat64(m.storedGroups))

	m.ObserveCall("CommitGroup", "ok", time.Millisecond)
	m.ObserveCall("CommitGroup", "unreachable", 2*time.Second)
	require.Equal(t, 2, testutil.CollectAndCount(m.downstream))
	m.ObserveRequest("Group.CommitGroup", 0, time.Millisecond)
	m.ObserveRequest("Group.CommitGroup", -32000, time.Millisecond)
	m.ObserveRequest("Group.CommitGroup", -32000, time.Millisecond)
	require.Equal(t, 2.0, testutil.ToFloat64(m.apiRequests.WithLabelValues("Group.CommitGroup", "-32000")))
}

// TestMetrics_Workqueue drives a real queue through the provider.
func TestMetrics_Workqueue(t *testing.T) {
	m := NewMetrics(DefaultMetricsOptions())
	opts := workqueue.DefaultOptions()
	opts.Name, opts.Metrics = "groups", m
	q, err := workqueue.New[string](opts)
	require.NoError(t, err)
	t.Cleanup(q.ShutDown)

	q.Add("a")
	q.Add("b")
	require.Equal(t, 2.0, testutil.ToFloat64(m.wqDepth.WithLabelValues("groups")))
	k, _ := q.Get()
	q.Done(k)
	q.AddRateLimited("c")
	require.Equal(t, 1.0, testutil.ToFloat64(m.wqDepth.WithLabelValues("groups")))
	require.Equal(t, 2.0, testutil.ToFloat64(m.wqAdds.WithLabelValues("groups")))
	require.Equal(t, 1.0, testutil.ToFloat64(m.wqRetries.WithLabelValues("groups")))
	require.Equal(t, 1, testutil.CollectAndCount(m.wqLatency))
	require.Equal(t, 1, testutil.CollectAndCount(m.wqWork))
}

// TestMetrics_Names scrapes /metrics over HTTP and checks every name the
// dashboards rely on is exposed.
func TestMetrics_Names(t *testing.T) {
	m := NewMetrics(DefaultMetricsOptions())
	q, err := workqueue.New[string](queueOptions(m))
	require.NoError(t, err)
	t.Cleanup(q.ShutDown)
	q.AddRateLimited("x")
	q.Add("y")
	k, _ := q.Get()
	q.Done(k)
	m.ReconcileDone(ResultError, time.Millisecond)
	m.SetLeader(true)
	m.SetLease("held")
	m.StoreSaved(time.Millisecond, nil)
	m.ObserveCall("InspectGroups", "ok", time.Millisecond)
	m.ObserveRequest("Group.InspectGroups", 0, time.Millisecond)
	m.SetBuildInfo("0.2.0", "abc", "go1.26")

	s := listen(t, serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics, o.Health = "127.0.0.1:0", m, &Checks{} }))
	body := get(t, "http://"+s.Addr()+"/metrics", http.StatusOK)
	for _, name := range []string{
		"controller_runtime_reconcile_total{", "controller_runtime_reconcile_errors_total{", "controller_runtime_reconcile_time_seconds_bucket{",
		`workqueue_depth{name="groups"}`, `workqueue_adds_total{name="groups"}`, `workqueue_queue_duration_seconds_bucket{name="groups"`,
		`workqueue_work_duration_seconds_bucket{name="groups"`, `workqueue_retries_total{name="groups"}`,
		`leader_election_master_status{name="group"} 1`,
		"infrakit_manager_leadership_transitions_total", "infrakit_manager_leadership_term", "infrakit_manager_stored_groups",
		"infrakit_manager_store_save_duration_seconds_bucket{", "infrakit_manager_downstream_call_duration_seconds_bucket{",
		`infrakit_manager_group_api_requests_total{code="0",method="Group.InspectGroups"} 1`, `infrakit_manager_lease_state{state="held"} 1`,
		`infrakit_manager_build_info{commit="abc",goversion="go1.26",version="0.2.0"} 1`,
		"go_goroutines", "process_cpu_seconds_total",
	} {
		require.Contains(t, body, name)
	}
}

func get(t *testing.T, url string, wantStatus int) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, wantStatus, resp.StatusCode, "body: %s", b)
	return strings.TrimSpace(string(b))
}

// TestMetrics_Nil: a nil *Metrics records nothing and does not panic, also
// behind the interfaces the other packages take.
func TestMetrics_Nil(t *testing.T) {
	var m *Metrics
	m.ReconcileDone(ResultSuccess, time.Millisecond)
	m.SetLeader(true)
	m.SetTerm(1)
	m.SetLease("held")
	m.StoreSaved(time.Millisecond, nil)
	m.SetStoredGroups(1)
	m.SetBuildInfo("v", "c", "g")

	var obs interface {
		ObserveCall(string, string, time.Duration)
		ObserveRequest(string, int, time.Duration)
	} = m
	obs.ObserveCall("CommitGroup", "ok", time.Millisecond)
	obs.ObserveRequest("Group.CommitGroup", 0, time.Millisecond)

	q, err := workqueue.New[string](queueOptions(m))
	require.NoError(t, err)
	t.Cleanup(q.ShutDown)
	q.Add("a")
	k, _ := q.Get()
	q.Done(k)
	q.AddRateLimited("b")
}

// queueOptions are the default queue options named "groups", recording
// into m.
func queueOptions(m workqueue.MetricsProvider) workqueue.Options {
	o := workqueue.DefaultOptions()
	o.Name, o.Metrics = "groups", m
	return o
}
