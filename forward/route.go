package forward

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

// Retry backoff while the leader is unknown or handing over.
const (
	backoffMin = 10 * time.Millisecond
	backoffMax = 200 * time.Millisecond
	// answerReserveMax caps the time kept back from the caller's deadline
	// for the give-up answer to reach the caller (a quarter of the time
	// left at the start, at most this).
	answerReserveMax = 250 * time.Millisecond
)

// answerBy is when a forwarded call stops waiting for a leader: before the
// caller's deadline by a quarter of the time left (at most
// answerReserveMax), so that its not-a-leader answer reaches the caller
// before the caller's own deadline ends the call as a timeout.
func answerBy(ctx context.Context) time.Time {
	dl, _ := ctx.Deadline()
	return dl.Add(-min(time.Until(dl)/4, answerReserveMax))
}

// How a method is routed.
type routing int

const (
	write       routing = iota // free, destroy
	commitWrite                // commit: also resent after a "stored; lost" answer
	read                       // describe, inspect: answered here when no leader answers
)

// route serves one call: locally when forwarding is off, the request was
// forwarded to us, or we lead; else at the leader.
func route[T any](ctx context.Context, g *Group, method string, how routing,
	local func(context.Context) (T, error), remote func(context.Context, *plugin.Client) (T, error)) (T, error) {
	by, forwarded := plugin.ForwardedBy(ctx)
	if !g.o.Forward || forwarded || g.leads(ctx) {
		v, err := local(ctx)
		if err != nil && g.plainNotLeader(err) {
			loc := g.location(ctx)
			if forwarded {
				g.o.Log.Info("refused forwarded request: this manager does not lead; not forwarding it again",
					"method", method, "forwardedBy", by, "leader", loc)
			}
			return v, &NotLeaderError{Location: loc, err: err}
		}
		return v, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.o.Timeout)
		defer cancel()
	}
	var zero T
	backoff := backoffMin
	giveUpAt := answerBy(ctx)
	var last error
	for {
		loc := g.location(ctx)
		target, err := g.target(loc)
		switch {
		case errors.Is(err, ErrSelfLocation) && g.leads(ctx):
			// This replica gained leadership since the check above (a
			// leader names itself): serve it here.
			return local(ctx)
		case errors.Is(err, ErrSelfLocation):
			g.o.Log.Info("refused to forward: the leader location points to this manager itself", "method", method, "leader", loc)
			return zero, fmt.Errorf("%w (%s); not forwarding %s: %w", ErrSelfLocation, loc, method, g.o.NotLeader)
		case err == nil:
			var c *plugin.Client
			if c, err = g.clientFor(target); err != nil {
				return zero, fmt.Errorf("forward %s to %s: %w", method, target, err)
			}
			v, err := remote(ctx, c)
			switch {
			case lostAfterStore(err) && how == commitWrite:
				// Idempotent: the new leader stores the same entry under the
				// same ID and its downstream finds nothing to change.
				g.o.Log.Info("resending to the next leader a commit the old one stored but did not apply",
					"method", method, "leader", target, "error", err.Error())
			case lostAfterStore(err):
				return v, g.lostAfterStore(ctx, method, target, err)
			case how == read && errors.Is(err, plugin.ErrUnreachable):
				g.o.Log.V(1).Info("leader unreachable; answering a read here", "method", method, "leader", target, "error", err.Error())
				return local(ctx)
			case err != nil && lostAfterStore(last) && !retriable(err):
				// A resend failed, but a former leader stored the spec:
				// say that, not only how the resend failed.
				return zero, g.giveUp(ctx, method, last)
			case err == nil || !retriable(err):
				g.o.Log.V(1).Info("forwarded call", "method", method, "leader", target, "failed", err != nil)
				return v, err
			}
			last = err
		case how == read:
			// No leader to ask: the local answer (the shared store, this
			// replica's downstream), as without forwarding.
			return local(ctx)
		default:
			last = err
		}
		// Wait for the (new) leader to be known and try again, within the
		// caller's deadline.
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, backoffMax)
		if time.Until(giveUpAt) < wait {
			return zero, g.giveUp(ctx, method, last)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, g.giveUp(ctx, method, last)
		case <-t.C:
		}
	}
}

// giveUp answers not-a-leader naming the newest location (the request did
// nothing anywhere), or a former leader's "stored" answer.
func (g *Group) giveUp(ctx context.Context, method string, last error) error {
	loc := g.location(context.WithoutCancel(ctx))
	if lostAfterStore(last) { // stored by a former leader: say so
		g.o.Log.Error(last, "forwarding gave up on a stored commit: no new leader answered within the caller's deadline",
			"method", method, "leader", loc)
		return &storedError{err: last, loc: loc}
	}
	g.o.Log.Error(last, "forwarding gave up: no leader answered within the caller's deadline",
		"method", method, "leader", loc)
	return &NotLeaderError{Location: loc, err: g.o.NotLeader}
}

// leads reports whether this replica leads now (unknown: no).
func (g *Group) leads(ctx context.Context) bool {
	ok, err := g.local.IsLeader(ctx)
	return err == nil && ok
}

// location is the leader's location as this replica knows it, "" if none.
func (g *Group) location(ctx context.Context) string {
	u, err := g.local.LeaderLocation(ctx)
	if err != nil || u == nil {
		return ""
	}
	return u.String()
}

// target checks a location: an http(s) URL that is not this manager.
func (g *Group) target(loc string) (string, error) {
	if loc == "" {
		return "", errNoLeader
	}
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%w: %s is not a URL this manager can forward to", errNoLeader, loc)
	}
	if sameURL(loc, g.o.Advertise) {
		return "", ErrSelfLocation
	}
	return loc, nil
}

func sameURL(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && ua.Scheme == ub.Scheme && ua.Host == ub.Host
}

// plainNotLeader: err is the local not-a-leader refusal itself (nothing was
// done), not a longer error that wraps it ("stored; leadership lost").
func (g *Group) plainNotLeader(err error) bool {
	return errors.Is(err, g.o.NotLeader) && err.Error() == g.o.NotLeader.Error()
}

// retriable: the target did nothing with the request, so sending it to the
// (new) leader cannot apply it twice. Either it refused with exactly
// not-a-leader (the front refuses before it stores anything), or no
// connection could be made (the request never left). Anything else (an
// answer, a connection lost mid-call) is not retried.
func retriable(err error) bool {
	var rerr *plugin.RPCError
	if errors.As(err, &rerr) {
		return rerr.Code == plugin.CodeApplication && rerr.Message == notLeaderText
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// lostAfterStore: the target stored the write (or removed the group) and
// lost leadership before carrying it out ("… (not-a-leader)"). The change is
// durable and the next leader carries it out. A commit is sent again to the
// next leader (resendStored): it stores the same spec under the same ID
// and its downstream, already running that spec, plans nothing (Noop). A
// free or destroy is not: the group left the store, and the next leader
// carries out the durable intent.
func lostAfterStore(err error) bool {
	var rerr *plugin.RPCError
	return errors.As(err, &rerr) && rerr.Code == plugin.CodeApplication &&
		strings.HasSuffix(rerr.Message, "("+notLeaderText+")")
}

// lostAfterStore answers the target's text with the new leader's location,
// once this replica knows it (or the caller's deadline is near).
func (g *Group) lostAfterStore(ctx context.Context, method, target string, err error) error {
	loc := g.location(ctx)
	giveUpAt := answerBy(ctx)
	for backoff := backoffMin; !g.newTarget(loc, target); backoff = min(2*backoff, backoffMax) {
		if time.Until(giveUpAt) < backoff {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		loc = g.location(ctx)
	}
	g.o.Log.Info("forwarded write stored by a leader that lost leadership before applying it; not sending it again",
		"method", method, "leader", loc, "error", err.Error())
	return &storedError{err: err, loc: loc}
}

// newTarget: loc is a leader URL to forward to, other than target.
func (g *Group) newTarget(loc, target string) bool {
	t, err := g.target(loc)
	return err == nil && t != target
}

// storedError keeps the target's text and names the new leader's location.
type storedError struct {
	err error
	loc string
}

func (e *storedError) Error() string { return e.err.Error() }
func (e *storedError) Unwrap() error { return e.err }

// WireData names the new leader, like a not-a-leader answer.
func (e *storedError) WireData() any {
	if e.loc == "" {
		return nil
	}
	return plugin.NotLeaderData{LeaderLocation: e.loc}
}

// notLeaderText is the wire text of not-a-leader (the original's).
const notLeaderText = "not-a-leader"
