package workqueue_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/workqueue"
)

// recordingProvider is a hand-written MetricsProvider that records values.
type recordingProvider struct {
	mu      sync.Mutex
	names   []string
	depth   int
	adds    int
	retries int
	latency []float64
	work    []float64
}

var _ workqueue.MetricsProvider = (*recordingProvider)(nil)

type recGauge struct{ p *recordingProvider }
type recCounter struct {
	n *int
	p *recordingProvider
}
type recHist struct {
	s *[]float64
	p *recordingProvider
}

func (g recGauge) Inc()             { g.p.mu.Lock(); g.p.depth++; g.p.mu.Unlock() }
func (g recGauge) Dec()             { g.p.mu.Lock(); g.p.depth--; g.p.mu.Unlock() }
func (c recCounter) Inc()           { c.p.mu.Lock(); *c.n++; c.p.mu.Unlock() }
func (h recHist) Observe(v float64) { h.p.mu.Lock(); *h.s = append(*h.s, v); h.p.mu.Unlock() }

func (p *recordingProvider) named(n string) { p.mu.Lock(); p.names = append(p.names, n); p.mu.Unlock() }
func (p *recordingProvider) NewDepthMetric(n string) workqueue.GaugeMetric {
	p.named(n)
	return recGauge{p}
}
func (p *recordingProvider) NewAddsMetric(n string) workqueue.CounterMetric {
	p.named(n)
	return recCounter{&p.adds, p}
}
func (p *recordingProvider) NewLatencyMetric(n string) workqueue.HistogramMetric {
	p.named(n)
	return recHist{&p.latency, p}
}
func (p *recordingProvider) NewWorkDurationMetric(n string) workqueue.HistogramMetric {
	p.named(n)
	return recHist{&p.work, p}
}
func (p *recordingProvider) NewRetriesMetric(n string) workqueue.CounterMetric {
	p.named(n)
	return recCounter{&p.retries, p}
}

func (p *recordingProvider) snapshot() recordingProvider {
	p.mu.Lock()
	defer p.mu.Unlock()
	return recordingProvider{names: append([]string(nil), p.names...), depth: p.depth, adds: p.adds, retries: p.retries,
		latency: append([]float64(nil), p.latency...), work: append([]float64(nil), p.work...)}
}

func TestMetrics(t *testing.T) {
	clk := newFakeClock()
	p := &recordingProvider{}
	opts := workqueue.DefaultOptions()
	opts.Clock, opts.Name, opts.Metrics = clk, "groups", p
	q := newQueue[string](t, opts)

	q.Add("a")
	q.Add("a") // already pending: not an add
	q.Add("b")
	s := p.snapshot()
	require.Equal(t, []string{"groups", "groups", "groups", "groups", "groups"}, s.names)
	require.Equal(t, 2, s.depth)
	require.Equal(t, 2, s.adds)

	clk.Step(3 * time.Second)
	requireNext(t, q, "a")
	q.Add("a") // while processing: an add, queued again on Done
	clk.Step(2 * time.Second)
	q.Done("a")
	s = p.snapshot()
	require.Equal(t, 2, s.depth, "b pending, a queued again")
	require.Equal(t, 3, s.adds)
	require.Equal(t, []float64{3}, s.latency)
	require.Equal(t, []float64{2}, s.work)

	q.AddRateLimited("c")
	q.AddRateLimited("c")
	require.Equal(t, 2, p.snapshot().retries)

	q.ShutDown()
	require.Equal(t, 2, p.snapshot().depth, "shutdown keeps pending keys for the workers")
	for range 2 {
		k, shutdown := q.Get()
		require.False(t, shutdown)
		q.Done(k)
	}
	require.Equal(t, 0, p.snapshot().depth, "drained")
}

func TestMetrics_NilProvider(t *testing.T) {
	q := newQueue[int](t, workqueue.DefaultOptions())
	q.Add(1)
	requireNext(t, q, 1)
	q.Done(1)
	q.AddRateLimited(2)
}
