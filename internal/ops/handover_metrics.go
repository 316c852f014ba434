package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) addHandover() {
	m.handoverState.vec = m.gaugeVec("infrakit_manager_handover_state",
		"1 for the phase of this replica's newest handover as new leader (waiting_release, waiting_lease, done), 0 for phases seen before.", "phase")
	m.handoverWait = m.histogramVec("infrakit_manager_handover_wait_seconds",
		"How long a new leader waited before acting, by how the wait ended (released, lease, none, fast).", "how")
	m.handoverRelease = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "infrakit_manager_handover_release_seconds",
		Help:    "From losing leadership to the release recorded (groups freed).",
		Buckets: durationBuckets,
	})
	m.reg.MustRegister(m.handoverRelease)
}

// SetHandover records the phase of the newest handover ("waiting_release",
// "waiting_lease", "done"): 1 for phase, 0 for every phase set before.
func (m *Metrics) SetHandover(phase string) {
	if m == nil {
		return
	}
	m.handoverState.set(phase)
}

// HandoverDone records how long a new leader waited and how the wait ended.
func (m *Metrics) HandoverDone(how string, d time.Duration) {
	if m == nil {
		return
	}
	m.handoverWait.WithLabelValues(how).Observe(d.Seconds())
}

// HandoverReleased records the time from losing leadership to the release.
func (m *Metrics) HandoverReleased(d time.Duration) {
	if m == nil {
		return
	}
	m.handoverRelease.Observe(d.Seconds())
}
