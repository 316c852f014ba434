package ops

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sink"
	"github.com/infrakit-manager/manager/workqueue"
)

// Reconcile results of ReconcileDone, as controller-runtime labels them.
const (
	ResultSuccess      = "success"
	ResultError        = "error"
	ResultRequeue      = "requeue"
	ResultRequeueAfter = "requeue_after"
)

// MetricsOptions configure NewMetrics.
type MetricsOptions struct {
	// Controller is the "controller" label of controller_runtime_*.
	Controller string
	// LeaseName is the "name" label of leader_election_master_status (the
	// replica's --name).
	LeaseName string
}

// DefaultMetricsOptions returns the defaults.
func DefaultMetricsOptions() MetricsOptions {
	return MetricsOptions{Controller: "group", LeaseName: "group"}
}

// Metrics holds every metric of one manager in its own registry (no global
// registration). Its methods are safe for concurrent use and never block on
// anything but the metric's own atomic update. A nil *Metrics records
// nothing, so a caller may hold one unconditionally (also behind the
// workqueue.MetricsProvider, sink.CallObserver and plugin.RequestObserver
// interfaces, where a nil pointer is a non-nil interface).
type Metrics struct {
	reg        *prometheus.Registry
	controller string
	leaseName  string

	reconcileTotal  *prometheus.CounterVec
	reconcileErrors *prometheus.CounterVec
	reconcileTime   *prometheus.HistogramVec

	wqDepth   *prometheus.GaugeVec
	wqAdds    *prometheus.CounterVec
	wqLatency *prometheus.HistogramVec
	wqWork    *prometheus.HistogramVec
	wqRetries *prometheus.CounterVec

	masterStatus *prometheus.GaugeVec

	transitions  prometheus.Counter
	term         prometheus.Gauge
	storedGroups prometheus.Gauge
	storeSave    *prometheus.HistogramVec
	downstream   *prometheus.HistogramVec
	apiRequests  *prometheus.CounterVec
	apiDuration  *prometheus.HistogramVec
	leaseState   oneHot
	buildInfo    *prometheus.GaugeVec
	leaderMu     sync.Mutex // orders SetLeader's read-compare-set
	leaderKnown  bool
	leader       bool

	handoverState   oneHot
	handoverWait    *prometheus.HistogramVec
	handoverRelease prometheus.Histogram
}

var (
	_ workqueue.MetricsProvider = (*Metrics)(nil)
	_ sink.CallObserver         = (*Metrics)(nil)
	_ plugin.RequestObserver    = (*Metrics)(nil)
)

// durationBuckets cover 1 ms to about 33 s.
var durationBuckets = prometheus.ExponentialBuckets(0.001, 2, 16)

// NewMetrics returns the metrics with the Go and process collectors on.
func NewMetrics(opts MetricsOptions) *Metrics {
	d := DefaultMetricsOptions()
	if opts.Controller == "" {
		opts.Controller = d.Controller
	}
	if opts.LeaseName == "" {
		opts.LeaseName = d.LeaseName
	}
	m := &Metrics{reg: prometheus.NewRegistry(), controller: opts.Controller, leaseName: opts.LeaseName}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.reconcileTotal = m.counterVec("controller_runtime_reconcile_total", "Total number of reconciliations per controller.", "controller", "result")
	m.reconcileErrors = m.counterVec("controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller.", "controller")
	m.reconcileTime = m.histogramVec("controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller.", "controller")

	m.wqDepth = m.gaugeVec("workqueue_depth", "Current depth of workqueue.", "name")
	m.wqAdds = m.counterVec("workqueue_adds_total", "Total number of adds handled by workqueue.", "name")
	m.wqLatency = m.histogramVec("workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested.", "name")
	m.wqWork = m.histogramVec("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.", "name")
	m.wqRetries = m.counterVec("workqueue_retries_total", "Total number of retries handled by workqueue.", "name")

	m.masterStatus = m.gaugeVec("leader_election_master_status", "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.", "name")

	m.transitions = prometheus.NewCounter(prometheus.CounterOpts{Name: "infrakit_manager_leadership_transitions_total", Help: "Times this replica gained or lost leadership."})
	m.term = prometheus.NewGauge(prometheus.GaugeOpts{Name: "infrakit_manager_leadership_term", Help: "Current leadership term of this replica (increases at every gain)."})
	m.storedGroups = prometheus.NewGauge(prometheus.GaugeOpts{Name: "infrakit_manager_stored_groups", Help: "Groups in the store, as last loaded or saved."})
	m.reg.MustRegister(m.transitions, m.term, m.storedGroups)
	m.storeSave = m.histogramVec("infrakit_manager_store_save_duration_seconds", "Duration of store saves by result (ok, error).", "result")
	m.downstream = m.histogramVec("infrakit_manager_downstream_call_duration_seconds", "Duration of calls to the downstream group plugin by method and result (ok, error, unreachable, not_sent).", "method", "result")
	m.apiRequests = m.counterVec("infrakit_manager_group_api_requests_total", "Group API (and Manager API) requests served, by method and JSON-RPC code (0 success).", "method", "code")
	m.apiDuration = m.histogramVec("infrakit_manager_group_api_request_duration_seconds", "Duration of Group API (and Manager API) requests by method.", "method")
	m.buildInfo = m.gaugeVec("infrakit_manager_build_info", "Always 1; the labels name the release version, commit and Go version.", "version", "commit", "goversion")
	m.leaseState.vec = m.gaugeVec("infrakit_manager_lease_state", "1 for the current state of the leadership lease, 0 for states seen before.", "state")
	m.masterStatus.WithLabelValues(m.leaseName).Set(0)
	m.addHandover()
	return m
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	return v
}

func (m *Metrics) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	return v
}

func (m *Metrics) histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: durationBuckets}, labels)
	m.reg.MustRegister(v)
	return v
}

// Registry is the registry every metric is in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ReconcileDone records one reconcile of a group: result is one of
// ResultSuccess, ResultError, ResultRequeue, ResultRequeueAfter; d is how
// long it took.
func (m *Metrics) ReconcileDone(result string, d time.Duration) {
	if m == nil {
		return
	}
	m.reconcileTotal.WithLabelValues(m.controller, result).Inc()
	if result == ResultError {
		m.reconcileErrors.WithLabelValues(m.controller).Inc()
	}
	m.reconcileTime.WithLabelValues(m.controller).Observe(d.Seconds())
}

// SetLeader records whether this replica leads. A change from the previous
// known value counts one leadership transition; the first call does not.
func (m *Metrics) SetLeader(leader bool) {
	if m == nil {
		return
	}
	m.leaderMu.Lock()
	defer m.leaderMu.Unlock()
	if m.leaderKnown && m.leader != leader {
		m.transitions.Inc()
	}
	m.leaderKnown, m.leader = true, leader
	v := 0.0
	if leader {
		v = 1
	}
	m.masterStatus.WithLabelValues(m.leaseName).Set(v)
}

// SetTerm records the current leadership term.
func (m *Metrics) SetTerm(term uint64) {
	if m == nil {
		return
	}
	m.term.Set(float64(term))
}

// SetLease records the lease state (the controller's names: "held",
// "unknown", "none", "pending"): 1 for state, 0 for every state set before. Keep the
// set of states small and fixed; each is a time series.
func (m *Metrics) SetLease(state string) {
	if m == nil {
		return
	}
	m.leaseState.set(state)
}

// StoreSaved records one store save and its outcome.
func (m *Metrics) StoreSaved(d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.storeSave.WithLabelValues(result).Observe(d.Seconds())
}

// SetBuildInfo records the running build (infrakit_manager_build_info).
func (m *Metrics) SetBuildInfo(version, commit, goVersion string) {
	if m == nil {
		return
	}
	m.buildInfo.WithLabelValues(version, commit, goVersion).Set(1)
}

// SetStoredGroups records how many groups the store holds.
func (m *Metrics) SetStoredGroups(n int) {
	if m == nil {
		return
	}
	m.storedGroups.Set(float64(n))
}

// ObserveCall records one downstream call (sink.CallObserver).
func (m *Metrics) ObserveCall(method, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.downstream.WithLabelValues(method, result).Observe(d.Seconds())
}

// ObserveRequest records one Group API request (plugin.RequestObserver).
func (m *Metrics) ObserveRequest(method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.apiRequests.WithLabelValues(method, strconv.Itoa(code)).Inc()
	m.apiDuration.WithLabelValues(method).Observe(d.Seconds())
}

// NewDepthMetric implements workqueue.MetricsProvider: workqueue_depth.
func (m *Metrics) NewDepthMetric(name string) workqueue.GaugeMetric {
	if m == nil {
		return noopMetric{}
	}
	return m.wqDepth.WithLabelValues(name)
}

// NewAddsMetric implements workqueue.MetricsProvider: workqueue_adds_total.
func (m *Metrics) NewAddsMetric(name string) workqueue.CounterMetric {
	if m == nil {
		return noopMetric{}
	}
	return m.wqAdds.WithLabelValues(name)
}

// NewLatencyMetric implements workqueue.MetricsProvider:
// workqueue_queue_duration_seconds.
func (m *Metrics) NewLatencyMetric(name string) workqueue.HistogramMetric {
	if m == nil {
		return noopMetric{}
	}
	return m.wqLatency.WithLabelValues(name)
}

// NewWorkDurationMetric implements workqueue.MetricsProvider:
// workqueue_work_duration_seconds.
func (m *Metrics) NewWorkDurationMetric(name string) workqueue.HistogramMetric {
	if m == nil {
		return noopMetric{}
	}
	return m.wqWork.WithLabelValues(name)
}

// NewRetriesMetric implements workqueue.MetricsProvider:
// workqueue_retries_total.
func (m *Metrics) NewRetriesMetric(name string) workqueue.CounterMetric {
	if m == nil {
		return noopMetric{}
	}
	return m.wqRetries.WithLabelValues(name)
}

// noopMetric is what a nil *Metrics hands a work queue.
type noopMetric struct{}

func (noopMetric) Inc()            {}
func (noopMetric) Dec()            {}
func (noopMetric) Observe(float64) {}

// oneHot is a gauge vector with one label where exactly the newest value is
// 1 and every value set before is 0 (a state or phase).
type oneHot struct {
	mu      sync.Mutex // orders set's reset-and-set
	vec     *prometheus.GaugeVec
	current string
}

func (o *oneHot) set(v string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.current != "" && o.current != v {
		o.vec.WithLabelValues(o.current).Set(0)
	}
	o.current = v
	o.vec.WithLabelValues(v).Set(1)
}
