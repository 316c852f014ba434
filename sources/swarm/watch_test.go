package swarm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"
)

type checkResult struct {
	leader bool
	err    error
}

// scripted runs watchLoop with a fake clock and a check that returns what
// the test feeds it, one result per check.
type scripted struct {
	clk     *clocktesting.FakeClock
	results chan checkResult
	asked   chan struct{}
	kick    chan struct{}
	changes chan bool
	cancel  context.CancelFunc
	done    chan struct{}
}

const every = 250 * time.Millisecond

func startScripted(t *testing.T) *scripted {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &scripted{
		clk:     clocktesting.NewFakeClock(time.Unix(0, 0)),
		results: make(chan checkResult),
		asked:   make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
		changes: make(chan bool, 16),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	check := func(ctx context.Context) (bool, error) {
		s.asked <- struct{}{}
		select {
		case r := <-s.results:
			return r.leader, r.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	go func() {
		defer close(s.done)
		watchLoop(ctx, s.clk, every, testr.New(t), check, s.kick, func(b bool) { s.changes <- b })
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *scripted) stop() {
	s.cancel()
	<-s.done
}

// answer waits for the loop to check, then gives it r.
func (s *scripted) answer(t *testing.T, r checkResult) {
	t.Helper()
	select {
	case <-s.asked:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not check")
	}
	s.results <- r
}

func (s *scripted) noChange(t *testing.T) {
	t.Helper()
	select {
	case b := <-s.changes:
		t.Fatalf("unexpected report %v", b)
	default:
	}
}

func (s *scripted) change(t *testing.T) bool {
	t.Helper()
	select {
	case b := <-s.changes:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no report")
		return false
	}
}

// tick advances the fake clock once the loop waits on its ticker.
func (s *scripted) tick(t *testing.T) {
	t.Helper()
	require.Eventually(t, s.clk.HasWaiters, 5*time.Second, time.Millisecond)
	s.clk.Step(every)
}

func TestWatchLoopReportsFirstStatusThenOnlyChanges(t *testing.T) {
	s := startScripted(t)
	s.answer(t, checkResult{leader: false}) // at once, before any tick
	require.False(t, s.change(t))

	s.tick(t)
	s.answer(t, checkResult{leader: false})
	s.tick(t)
	s.answer(t, checkResult{leader: true})
	require.True(t, s.change(t))
	s.tick(t)
	s.answer(t, checkResult{leader: true})
	s.tick(t)
	s.answer(t, checkResult{err: errors.New("engine hung")}) // unknown = not leader
	require.False(t, s.change(t))
	s.tick(t)
	s.answer(t, checkResult{err: errors.New("engine hung")})
	s.noChange(t)
	s.tick(t)
	s.answer(t, checkResult{leader: true})
	require.True(t, s.change(t))
	s.noChange(t)
}

func TestWatchLoopChecksAtOnceOnAKick(t *testing.T) {
	s := startScripted(t)
	s.answer(t, checkResult{leader: true})
	require.True(t, s.change(t))
	s.kick <- struct{}{} // a node event: no tick needed
	s.answer(t, checkResult{leader: false})
	require.False(t, s.change(t))
}

func TestWatchLoopStopsWhileACheckIsInFlight(t *testing.T) {
	s := startScripted(t)
	<-s.asked // the first check never answers
	s.stop()  // returns: the check honours ctx and nothing is reported
	s.noChange(t)
}
