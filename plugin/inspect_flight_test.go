package plugin

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingGroup answers InspectGroups with the number of the call as the
// only group's ID, after gate lets it go.
type countingGroup struct {
	Group
	calls atomic.Int32
	gate  chan struct{}
}

func (c *countingGroup) InspectGroups(ctx context.Context) ([]Spec, error) {
	n := c.calls.Add(1)
	select {
	case <-c.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []Spec{{ID: ID(rune('0' + n))}}, nil
}

func TestInspectFlightsShareCallsAndReadTheirWrites(t *testing.T) {
	g := &countingGroup{gate: make(chan struct{})}
	var f inspectFlights
	first := make(chan []Spec, 1)
	go func() { specs, _ := f.do(context.Background(), g); first <- specs }()
	require.Eventually(t, func() bool { return g.calls.Load() == 1 }, 5*time.Second, time.Millisecond)

	// 50 callers arrive while call 1 runs: they must get call 2, shared.
	var wg sync.WaitGroup
	results := make([][]Spec, 50)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], _ = f.do(context.Background(), g) }()
	}
	require.Never(t, func() bool { return g.calls.Load() > 1 }, 100*time.Millisecond, time.Millisecond)
	close(g.gate)
	wg.Wait()
	require.Equal(t, ID("1"), (<-first)[0].ID)
	for _, r := range results {
		require.Equal(t, ID("2"), r[0].ID, "a caller got an answer from a call that began before it arrived")
		require.Same(t, &results[0][0], &r[0], "the answers share one slice")
	}
	require.Equal(t, int32(2), g.calls.Load())
}

func TestInspectFlightsCancelledWhenEveryoneLeaves(t *testing.T) {
	g := &countingGroup{gate: make(chan struct{})}
	var f inspectFlights
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.do(ctx, g); errc <- err }()
	require.Eventually(t, func() bool { return g.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	// The abandoned call was cancelled, so the next caller starts a new one.
	close(g.gate)
	specs, err := f.do(context.Background(), g)
	require.NoError(t, err)
	require.Equal(t, ID("2"), specs[0].ID)
}
