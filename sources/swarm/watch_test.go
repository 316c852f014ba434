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

// answer is what one scripted check returns.
type answer struct {
	leader bool
	err    error
}

// pendingCheck is one check waiting for the test to answer it.
type pendingCheck chan answer

// scripted runs watchLoop with a fake clock and checks that wait for the
// test to answer them, one by one.
type scripted struct {
	clk     *clocktesting.FakeClock
	calls   chan pendingCheck
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
		calls:   make(chan pendingCheck, 8),
		kick:    make(chan struct{}, 1),
		changes: make(chan bool, 16),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	check := func(ctx context.Context) (bool, error) {
		c := make(pendingCheck, 1)
		s.calls <- c
		select {
		case a := <-c:
			return a.leader, a.err
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

// nextCheck waits until the loop starts a check.
func (s *scripted) nextCheck(t *testing.T) pendingCheck {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not check")
		return nil
	}
}

// answer waits for the next check and answers it.
func (s *scripted) answer(t *testing.T, leader bool, err error) {
	t.Helper()
	s.nextCheck(t) <- answer{leader, err}
}

func (s *scripted) noChange(t *testing.T) {
	t.Helper()
	select {
	case b := <-s.changes:
		t.Fatalf("unexpected report %v", b)
	case <-time.After(20 * time.Millisecond):
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

// tick advances the fake clock by one poll interval.
func (s *scripted) tick() { s.clk.Step(every) }

func TestWatchLoopReportsFirstStatusThenOnlyChanges(t *testing.T) {
	s := startScripted(t)
	s.answer(t, false, nil) // at once, before any tick
	require.False(t, s.change(t))

	steps := []struct {
		leader bool
		err    error
		report *bool
	}{
		{false, nil, nil},
		{true, nil, ptr(true)},
		{true, nil, nil},
		{false, errors.New("engine hung"), ptr(false)}, // unknown = not leader
		{false, errors.New("engine hung"), nil},
		{true, nil, ptr(true)},
	}
	for i, st := range steps {
		s.tick()
		s.answer(t, st.leader, st.err)
		if st.report == nil {
			s.noChange(t)
		} else {
			require.Equal(t, *st.report, s.change(t), "step %d", i)
		}
	}
}

func ptr(b bool) *bool { return &b }

func TestWatchLoopChecksAtOnceOnAKick(t *testing.T) {
	s := startScripted(t)
	s.answer(t, true, nil)
	require.True(t, s.change(t))
	s.kick <- struct{}{} // a node event: no tick needed
	s.answer(t, false, nil)
	require.False(t, s.change(t))
}

// A slow check does not hold up a newer one, and its late answer does not
// overwrite the newer answer.
func TestWatchLoopIsNotHeldUpByASlowCheck(t *testing.T) {
	s := startScripted(t)
	s.answer(t, false, nil)
	require.False(t, s.change(t))

	s.tick()
	slow := s.nextCheck(t) // hangs for now
	s.kick <- struct{}{}
	fresh := s.nextCheck(t) // started while slow is in flight
	fresh <- answer{leader: true}
	require.True(t, s.change(t))
	slow <- answer{err: context.DeadlineExceeded} // older: ignored
	s.noChange(t)

	// with maxInFlight checks hanging, no more is started, but the tick is
	// remembered and checked as soon as one returns
	var hung []chan answer
	for range maxInFlight {
		s.tick()
		hung = append(hung, s.nextCheck(t))
	}
	s.tick()
	select {
	case <-s.calls:
		t.Fatal("a check beyond maxInFlight was started")
	case <-time.After(20 * time.Millisecond):
	}
	hung[0] <- answer{err: context.DeadlineExceeded}
	require.False(t, s.change(t), "a timed-out check counts as not leader")
	late := s.nextCheck(t) // the remembered tick, started once a slot freed
	late <- answer{leader: true}
	require.True(t, s.change(t))
	for _, h := range hung[1:] {
		h <- answer{err: context.DeadlineExceeded} // older than late: ignored
	}
	s.noChange(t)
}

func TestWatchLoopStopsWhileACheckIsInFlight(t *testing.T) {
	s := startScripted(t)
	s.nextCheck(t) // never answered
	s.stop()       // returns: the check honours ctx, and nothing is reported
	s.noChange(t)
}
