package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/sources"
)

// LeadershipOptions configures a Leadership. Start from
// DefaultLeadershipOptions.
type LeadershipOptions struct {
	// Prefix is the key prefix this manager group uses (as StoreOptions.
	// Prefix). The election lives under <Prefix>/election/. Defaults to
	// "/infrakit".
	Prefix string
	// Name is the candidate value: who this manager is, shown as
	// Status.Holder on every replica. Required.
	Name string
	// LeaseDuration is the session lease TTL, a whole number of seconds, at
	// least 2s. A leader that stops renewing loses
	// the election this long after its last renewal. Defaults to 5s.
	LeaseDuration time.Duration
	// SafetyMargin is subtracted from the lease's earliest server-side
	// expiry (the send time of the last answered renewal + TTL) to get the
	// local deadline: the time a leader that stops there has to free its
	// groups before another candidate can win. It scales with the lease,
	// so 0 means LeaseDuration/12, the default (about 417ms at 5s): with
	// renewals every TTL/25, a stall of up to TTL − TTL/25 − margin (4.38s
	// at 5s) keeps the term. Otherwise in (0, LeaseDuration/2).
	SafetyMargin time.Duration
	// CallTimeout bounds every etcd call; at most a third of LeaseDuration
	// so a slow renewal is retried before the lease ends. It scales with
	// the lease too: 0 means min(1s, LeaseDuration/3). Defaults to 1s.
	CallTimeout time.Duration
	// Clock tells the time for the lease deadline. Required. Defaults to
	// the real (monotonic) clock.
	Clock clock.PassiveClock
	// Log receives diagnostics. The zero Logger discards.
	Log logr.Logger
}

// DefaultLeadershipOptions returns the defaults (Name has none).
func DefaultLeadershipOptions() LeadershipOptions {
	return LeadershipOptions{
		Prefix: "/infrakit", LeaseDuration: 5 * time.Second, CallTimeout: time.Second,
		Clock: clock.RealClock{},
	}
}

// scaled returns o with a zero SafetyMargin and CallTimeout replaced by
// the values they stand for at o.LeaseDuration.
func (o LeadershipOptions) scaled() LeadershipOptions {
	if o.SafetyMargin == 0 {
		o.SafetyMargin = o.LeaseDuration / 12
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = min(time.Second, o.LeaseDuration/3)
	}
	return o
}

// Validate checks the fields without changing them. Errors name fields.
func (o LeadershipOptions) Validate() error {
	var errs []error
	if strings.TrimSpace(o.Name) == "" {
		errs = append(errs, field.Errorf("Name", "must not be blank"))
	}
	if o.LeaseDuration < 2*time.Second || o.LeaseDuration%time.Second != 0 {
		errs = append(errs, field.Errorf("LeaseDuration", "must be a whole number of seconds, at least 2s, got %s", o.LeaseDuration))
	} else {
		s := o.scaled()
		if s.SafetyMargin < 0 || s.SafetyMargin >= o.LeaseDuration/2 {
			errs = append(errs, field.Errorf("SafetyMargin", "must be in [0, LeaseDuration/2), got %s", o.SafetyMargin))
		}
		if s.CallTimeout <= 0 || s.CallTimeout > o.LeaseDuration/3 {
			errs = append(errs, field.Errorf("CallTimeout", "must be > 0 and at most a third of LeaseDuration, got %s", o.CallTimeout))
		}
	}
	if o.Clock == nil {
		errs = append(errs, field.Errorf("Clock", "must not be nil"))
	}
	return errors.Join(append(errs, validPrefix(o.Prefix))...)
}

// View is the watched store a new leader must have caught up with before it
// reports leading: the Store of the same prefix (SetView).
type View interface {
	// Current reports whether the view holds every write up to rev (and is
	// not re-listing). If not, it brings it there in the background and
	// calls wake once it has.
	Current(rev int64, wake func()) bool
}

var _ View = (*Store)(nil)

// Fence names the leader key a fenced write compares: the write applies only
// while Key still exists with CreateRevision Rev.
type Fence struct {
	Key string
	Rev int64
}

// Leadership is one candidate in the election of a prefix. It campaigns in
// the background from the first Check or Watch until Close; Check answers
// from local state. It implements sources.Leadership (Check, Watch) in the
// shape with sources.Status; the lead adds the interface assertion at merge.
type Leadership struct {
	cli  *clientv3.Client
	opts LeadershipOptions
	keys layout
	log  logr.Logger

	startOnce sync.Once
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	known     chan struct{} // closed at the first observation of the election
	knownOnce sync.Once
	notify    chan struct{} // capacity 1: "leadership may have changed"

	mu          sync.Mutex
	view        View // nil: no store to wait for
	leading     bool
	fence       Fence
	winRev      int64 // the revision of the read that found this candidate first
	holder      string
	deadline    time.Time // local lease deadline; zero while no lease is held
	reason      string    // why not leading, when no lease is held
	renewErr    error     // the last renewal's error; nil after an answer
	behindSince time.Time // leading while the view is not current, since
	resigned    bool      // Resign was called: never leader again
}

var _ sources.Leadership = (*Leadership)(nil)

// NewLeadership validates opts. Nothing talks to etcd until the first Check
// or Watch.
func NewLeadership(cli *clientv3.Client, opts LeadershipOptions) (*Leadership, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("etcd leadership: %w", err)
	}
	opts = opts.scaled()
	ctx, cancel := context.WithCancel(context.Background())
	return &Leadership{
		cli: cli, opts: opts, keys: layout{opts.Prefix}, log: opts.Log,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		known: make(chan struct{}), notify: make(chan struct{}, 1),
	}, nil
}

// SetView makes a won election count only once v holds every write up to
// the win (a new leader never acts on an old view), and makes a leader whose
// view stays behind for longer than the lease step down. Call it before the
// first Check or Watch.
func (l *Leadership) SetView(v View) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.view = v
}

// Check answers from local state. The first call waits (until ctx is done,
// at most LeaseDuration) for the first look at the election. Past the local lease
// deadline it returns an error wrapping ErrLeaseExpired (status unknown); a
// leader's Status.Expires is that deadline.
func (l *Leadership) Check(ctx context.Context) (sources.Status, error) {
	if err := ctx.Err(); err != nil {
		return sources.Status{}, err
	}
	l.start()
	select {
	case <-l.done:
		return sources.Status{}, errors.New("etcd leadership: closed")
	default:
	}
	wait := time.NewTimer(l.opts.LeaseDuration) // even if ctx has no deadline
	defer wait.Stop()
	select {
	case <-l.known:
	case <-l.done:
		return sources.Status{}, errors.New("etcd leadership: closed")
	case <-ctx.Done():
		return sources.Status{}, fmt.Errorf("etcd leadership: no answer from etcd yet: %w", ctx.Err())
	case <-wait.C:
		return sources.Status{}, fmt.Errorf("etcd leadership: no answer from etcd within %s", l.opts.LeaseDuration)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opts.Clock.Now()
	if l.resigned {
		return sources.Status{Reason: "handing over (shutting down)"}, nil
	}
	if l.deadline.IsZero() {
		// no lease: certainly not leading, holder unknown
		return sources.Status{Reason: l.reason}, nil
	}
	if !now.Before(l.deadline) {
		// stable text: the controller logs each distinct one once
		return sources.Status{}, fmt.Errorf("%w (%s)", ErrLeaseExpired, l.renewalReasonLocked())
	}
	if l.leading {
		if l.view != nil && !l.view.Current(l.winRev, l.changed) {
			return sources.Status{}, fmt.Errorf("%w: election won at revision %d", ErrViewBehind, l.winRev)
		}
		return sources.Status{Leader: true, Holder: l.opts.Name, Expires: l.deadline}, nil
	}
	return sources.Status{Holder: l.holder}, nil
}

// Watch calls poke at once, whenever the election or the session changes,
// and when the local lease deadline passes, until ctx is done (then it
// returns nil). Pokes are sequential.
func (l *Leadership) Watch(ctx context.Context, poke func()) error {
	l.start()
	poke()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(l.untilDeadline())
		select {
		case <-ctx.Done():
			return nil
		case <-l.done:
			poke()
			<-ctx.Done()
			return nil
		case <-l.notify:
			poke()
		case <-timer.C:
			poke()
		}
	}
}

// untilDeadline is how long until the lease deadline (plus a millisecond,
// so the poke sees it passed), or an hour when there is none ahead.
func (l *Leadership) untilDeadline() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.deadline.IsZero() {
		return time.Hour
	}
	d := l.deadline.Sub(l.opts.Clock.Now())
	if d < 0 {
		return time.Hour
	}
	return d + time.Millisecond
}

// Fence returns the leader key a write must be fenced on, or an error
// wrapping ErrNotLeader when this manager does not lead now (including past
// its local lease deadline).
func (l *Leadership) Fence() (Fence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !l.leading || l.resigned:
		return Fence{}, ErrNotLeader
	case !l.opts.Clock.Now().Before(l.deadline):
		return Fence{}, fmt.Errorf("%w: %w", ErrNotLeader, ErrLeaseExpired)
	}
	return l.fence, nil
}

// Close stops campaigning and revokes the lease (bounded by CallTimeout),
// so another candidate leads at once. Check and Watch answer "not leader"
// afterwards.
func (l *Leadership) Close() error {
	l.start()
	l.cancel()
	<-l.done
	return nil
}

func (l *Leadership) start() {
	l.startOnce.Do(func() { go l.run() })
}

// changed wakes Watch without blocking.
func (l *Leadership) changed() {
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *Leadership) markKnown() { l.knownOnce.Do(func() { close(l.known) }) }
