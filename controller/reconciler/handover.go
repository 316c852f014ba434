package reconciler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/controller/lease"
	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Handover modes (Options.Handover, --handover).
const (
	// HandoverFenced: a new leader changes nothing downstream until the
	// previous holder has released or its lease has certainly run out.
	HandoverFenced = "fenced"
	// HandoverFast: a new leader acts at once; the two may overlap.
	HandoverFast = "fast"
)

// How a handover's wait ended, for the log and the metrics.
const (
	howReleased = "released" // the previous holders released
	howLease    = "lease"    // their lease had certainly run out
	howNone     = "none"     // nobody held an earlier term
	howFast     = "fast"     // --handover fast: no wait
)

// handoverPoll is how often a waiting new leader re-reads the handover
// record, and how often a releasing old leader asks its downstream whether
// it still runs anything.
const handoverPoll = 5 * time.Millisecond

// downstreamReader is what the release needs of the downstream: whether it
// still runs anything. It never changes the downstream.
type downstreamReader interface {
	InspectGroups(ctx context.Context) ([]plugin.Spec, error)
}

// handover carries a term from one holder to the next. On a gain it claims
// a term in the mode's handover record and, fenced, keeps the lease's gate
// closed until every earlier term is released (or cleared) or until the
// lease bound has passed since this replica first saw itself lead: any
// other replica's confirmation began before that moment, so it acts at most
// a lease after it. On a loss it waits for the term's calls and for its
// downstream to run nothing, then records the release.
type handover struct {
	lease    *lease.Lease
	rec      sources.Handover // nil: the mode keeps no record; the lease alone
	down     downstreamReader
	name     string
	instance string
	fenced   bool
	bound    time.Duration // lease + margin
	margin   time.Duration // a longer wait is a status problem
	timeout  time.Duration // one record call
	drain    time.Duration // the ended term's calls
	clock    clock.WithTicker
	log      logr.Logger
	metrics  *ops.Metrics
	onLift   func()

	wg     sync.WaitGroup // gain and release goroutines; Stop waits for them
	mu     sync.Mutex
	terms  map[*lease.Term]*handoverTerm
	lifted map[uint64]bool // this instance's record terms whose wait ended
	status *plugin.HandoverStatus
	since  time.Time // start of the handover in status
}

// handoverTerm is this instance's claim for one lease term.
type handoverTerm struct {
	claimed chan struct{} // closed once the claim returned
	decided chan struct{} // closed once the wait ended or began
	n       uint64        // record term; 0 if the claim failed
}

func newInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// changed is the lease's role-change hook; it never blocks.
func (h *handover) changed(c lease.Change) {
	if c.Term == nil {
		return
	}
	if c.Role == lease.RoleLeader {
		ht := &handoverTerm{claimed: make(chan struct{}), decided: make(chan struct{})}
		h.mu.Lock()
		h.terms[c.Term] = ht
		h.mu.Unlock()
		if !h.fenced {
			h.setStatus(c.Term, plugin.HandoverDone, "--handover fast: acting at once, may overlap the previous leader", 0)
			h.metrics.HandoverDone(howFast, 0)
		}
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.gain(c.Term, ht) }()
		return
	}
	h.mu.Lock()
	ht := h.terms[c.Term]
	delete(h.terms, c.Term)
	h.mu.Unlock()
	if ht != nil {
		h.wg.Add(1)
		go func() { defer h.wg.Done(); h.release(c.Term, ht, h.clock.Now()) }()
	}
}

// gain claims a record term for t and, fenced, waits until acting cannot
// overlap the previous holders, then lifts t's fence.
func (h *handover) gain(t *lease.Term, ht *handoverTerm) {
	defer func() {
		select {
		case <-ht.decided:
		default:
			close(ht.decided)
		}
	}()
	var (
		rec      sources.HandoverRecord
		claimErr error
	)
	if h.rec != nil {
		ctx, cancel := context.WithTimeout(t.Context(), h.timeout)
		rec, ht.n, claimErr = h.rec.Claim(ctx, h.name, h.instance)
		cancel()
		if claimErr != nil && ht.n == 0 && t.Context().Err() == nil {
			h.log.Error(claimErr, "handover record not claimed; the gate waits for the lease bound instead", "term", t.ID())
		}
	}
	close(ht.claimed)
	if !h.fenced {
		h.markLifted(ht.n)
		return
	}
	deadline := t.Gained().Add(h.bound)
	waitLease := func(why string) {
		h.setStatus(t, plugin.HandoverWaitingLease, why, h.clock.Since(t.Gained()))
	}
	switch {
	case h.rec == nil:
		waitLease("the mode keeps no handover record: waiting until the previous leader's lease has certainly run out")
	case claimErr != nil:
		waitLease("handover record: " + claimErr.Error())
	default:
		if h.doneIn(rec, ht.n) {
			how := howReleased
			if len(rec.Terms) == 1 && rec.Terms[0].Term == 1 {
				how = howNone
			}
			h.lift(t, ht, how)
			return
		}
		h.setStatus(t, plugin.HandoverWaitingRelease, h.pending(rec, ht.n), h.clock.Since(t.Gained()))
	}
	close(ht.decided)
	tick := h.clock.NewTicker(handoverPoll)
	defer tick.Stop()
	for {
		select {
		case <-t.Context().Done():
			h.setStatus(t, plugin.HandoverDone, "leadership lost during the handover", h.clock.Since(t.Gained()))
			return
		case <-tick.C():
		}
		if !h.clock.Now().Before(deadline) {
			h.lift(t, ht, howLease)
			return
		}
		if h.rec == nil || claimErr != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), h.timeout)
		rec, err := h.rec.Load(ctx)
		cancel()
		if err == nil && h.doneIn(rec, ht.n) {
			h.lift(t, ht, howReleased)
			return
		}
	}
}

// doneIn reports whether every term before n is done, counting this
// instance's own earlier terms as released (its own calls never overlap:
// one reconciler, one downstream) and as clear when their wait ended.
func (h *handover) doneIn(rec sources.HandoverRecord, n uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	terms := make([]sources.HandoverTerm, len(rec.Terms))
	for i, t := range rec.Terms {
		if t.Instance == h.instance && t.Term != n {
			t.Released = true
			t.Clear = t.Clear || h.lifted[t.Term]
		}
		terms[i] = t
	}
	return sources.HandoverRecord{Terms: terms}.Done(n)
}

// pending names the newest earlier term not released, for the status.
func (h *handover) pending(rec sources.HandoverRecord, n uint64) string {
	for i := len(rec.Terms) - 1; i >= 0; i-- {
		t := rec.Terms[i]
		if t.Term < n && !t.Released && t.Instance != h.instance {
			return fmt.Sprintf("term %d of %s not released yet", t.Term, t.Holder)
		}
	}
	return "earlier terms not known to be released"
}

// lift ends t's wait: the gate opens and every group is reconciled again
// (the term's first sync, run while the term waited, read both sides; a
// group it has not read yet waits for it and is enqueued by it).
func (h *handover) lift(t *lease.Term, ht *handoverTerm, how string) {
	waited := h.clock.Since(t.Gained())
	h.markLifted(ht.n)
	if !h.lease.Lift(t) {
		return // the term ended meanwhile
	}
	h.setStatus(t, plugin.HandoverDone, liftReason(how), waited)
	h.metrics.HandoverDone(how, waited)
	h.log.Info("handover done, acting", "term", t.ID(), "handoverTerm", ht.n, "how", how,
		"waited", waited.Round(time.Microsecond).String(), "leaseBound", h.bound.String())
	h.onLift()
}

func liftReason(how string) string {
	switch how {
	case howReleased:
		return "the previous leader released"
	case howNone:
		return "no earlier term"
	}
	return "the previous leader's lease has certainly run out"
}

func (h *handover) markLifted(n uint64) {
	if n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lifted[n] = true
}

// release records, once t's calls have returned and the downstream runs
// nothing, that t's holder no longer acts. It gives up when the record no
// longer holds the term, on Stop, or after ten lease bounds (the next
// leader has stopped waiting long before).
func (h *handover) release(t *lease.Term, ht *handoverTerm, lost time.Time) {
	base := h.lease.Base()
	select {
	case <-ht.claimed:
	case <-base.Done():
		return
	}
	if h.rec == nil || ht.n == 0 {
		return
	}
	t.Wait(h.drain)
	giveUp := lost.Add(10 * h.bound)
	tick := h.clock.NewTicker(handoverPoll)
	defer tick.Stop()
	for {
		if err := h.tryRelease(base, ht.n); err == nil {
			took := h.clock.Since(lost)
			h.metrics.HandoverReleased(took)
			h.log.Info("handover released", "term", t.ID(), "handoverTerm", ht.n, "took", took.Round(time.Microsecond).String())
			return
		} else if errors.Is(err, sources.ErrTermUnknown) || base.Err() != nil {
			return
		}
		if h.clock.Now().After(giveUp) {
			h.log.Info("handover not released: the downstream still runs groups or the record is unreachable", "term", t.ID(), "handoverTerm", ht.n)
			return
		}
		select {
		case <-base.Done():
			return
		case <-tick.C():
		}
	}
}

// errStillRunning: the downstream still runs groups; not released yet.
var errStillRunning = errors.New("downstream still runs groups")

func (h *handover) tryRelease(base context.Context, n uint64) error {
	ctx, cancel := context.WithTimeout(base, h.timeout)
	defer cancel()
	specs, err := h.down.InspectGroups(ctx)
	if err != nil {
		return err
	}
	if len(specs) > 0 {
		return errStillRunning
	}
	h.mu.Lock()
	clear := h.lifted[n]
	h.mu.Unlock()
	if !clear {
		if rec, err := h.rec.Load(ctx); err == nil {
			clear = h.doneIn(rec, n)
		}
	}
	return h.rec.Release(ctx, n, h.instance, clear)
}
