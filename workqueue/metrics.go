package workqueue

// GaugeMetric is a value that goes up and down (the queue depth).
type GaugeMetric interface {
	Inc()
	Dec()
}

// CounterMetric is a value that only goes up (adds, retries).
type CounterMetric interface {
	Inc()
}

// HistogramMetric observes durations in seconds.
type HistogramMetric interface {
	Observe(seconds float64)
}

// MetricsProvider makes the metrics of a queue, named after Options.Name. It
// has client-go's workqueue.MetricsProvider shape (the subset this queue
// reports), so a Prometheus implementation can export client-go's names
// (workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds,
// workqueue_work_duration_seconds, workqueue_retries_total). This package
// imports no metrics library; internal/ops provides the Prometheus one.
//
// The metrics are updated while the queue's lock is held, so they must not
// block: Prometheus metrics are atomic updates and qualify.
type MetricsProvider interface {
	// NewDepthMetric: keys pending (as Len).
	NewDepthMetric(name string) GaugeMetric
	// NewAddsMetric: keys added that were not already pending.
	NewAddsMetric(name string) CounterMetric
	// NewLatencyMetric: time a key waited pending before Get handed it out.
	NewLatencyMetric(name string) HistogramMetric
	// NewWorkDurationMetric: time from Get to Done.
	NewWorkDurationMetric(name string) HistogramMetric
	// NewRetriesMetric: AddRateLimited calls.
	NewRetriesMetric(name string) CounterMetric
}

// queueMetrics are one queue's metrics; noop when no provider is set.
type queueMetrics struct {
	depth   GaugeMetric
	adds    CounterMetric
	latency HistogramMetric
	work    HistogramMetric
	retries CounterMetric
}

func newQueueMetrics(p MetricsProvider, name string) queueMetrics {
	if p == nil {
		return queueMetrics{depth: noop{}, adds: noop{}, latency: noop{}, work: noop{}, retries: noop{}}
	}
	return queueMetrics{
		depth:   p.NewDepthMetric(name),
		adds:    p.NewAddsMetric(name),
		latency: p.NewLatencyMetric(name),
		work:    p.NewWorkDurationMetric(name),
		retries: p.NewRetriesMetric(name),
	}
}

// noop is the metric used when Options.Metrics is nil.
type noop struct{}

func (noop) Inc()            {}
func (noop) Dec()            {}
func (noop) Observe(float64) {}

var (
	_ GaugeMetric     = noop{}
	_ HistogramMetric = noop{}
)
