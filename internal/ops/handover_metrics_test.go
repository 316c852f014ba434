package ops

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestMetrics_Handover(t *testing.T) {
	m := NewMetrics(DefaultMetricsOptions())
	m.SetHandover("waiting_release")
	require.Equal(t, 1.0, testutil.ToFloat64(m.handoverState.vec.WithLabelValues("waiting_release")))
	m.SetHandover("done")
	require.Equal(t, 0.0, testutil.ToFloat64(m.handoverState.vec.WithLabelValues("waiting_release")), "one phase at a time")
	require.Equal(t, 1.0, testutil.ToFloat64(m.handoverState.vec.WithLabelValues("done")))

	m.HandoverDone("released", 3*time.Millisecond)
	m.HandoverDone("lease", 2100*time.Millisecond)
	require.Equal(t, 2, testutil.CollectAndCount(m.handoverWait))
	m.HandoverReleased(40 * time.Millisecond)
	require.Equal(t, 1, testutil.CollectAndCount(m.handoverRelease))

	var nilM *Metrics // records nothing, never panics
	nilM.SetHandover("done")
	nilM.HandoverDone("fast", 0)
	nilM.HandoverReleased(time.Millisecond)
}
