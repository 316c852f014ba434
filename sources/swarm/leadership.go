package swarm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/sources"
)

// DefaultLeaseDuration is swarm mode's --lease-duration: how long an engine
// that does not answer keeps the current role. It must stay below the
// shortest time in which another manager can lead after the same fault: the
// Swarm's Raft election after a hung or dead engine takes 10 s or more
// here (10-17.6 s measured in the swarm lab), so a manager beside a hung
// engine steps down at about 2 s and frees its groups long before a new
// leader can commit them, while one slow call (the engine timeout is 1 s)
// is ridden out. A demoted leader's engine can hang its first call for the
// engine timeout while another manager already leads; after that it answers
// that its node runs no manager (isNoManager: "not leader" at once), and
// the engine's own node events (leader.new=false) end the term at once when
// they arrive. The lease bounds the overlap only if neither comes.
const DefaultLeaseDuration = 2 * time.Second

// DefaultPollInterval is swarm mode's --poll-interval: how often the
// controller re-checks Raft leadership besides node events. A check is one
// NodeInspect (about 1 ms).
const DefaultPollInterval = 250 * time.Millisecond

// LeadershipOptions configures a Leadership.
type LeadershipOptions struct {
	// NoEvents turns off the node event stream that Watch follows to poke
	// the controller when a node changes (a demotion or promotion shows up
	// in milliseconds instead of at the next renewal). Renewals run either
	// way.
	NoEvents bool
	// Clock drives the poll ticker and the event-stream retry. Required.
	// Defaults to the real clock.
	Clock clock.WithTicker
	// Log receives diagnostics. The zero Logger discards.
	Log logr.Logger
}

// DefaultLeadershipOptions returns the defaults.
func DefaultLeadershipOptions() LeadershipOptions {
	return LeadershipOptions{Clock: clock.RealClock{}}
}

// Validate checks the fields without changing them. Errors name fields.
func (o LeadershipOptions) Validate() error {
	if o.Clock == nil {
		return field.Errorf("Clock", "must not be nil")
	}
	return nil
}

// Leadership reports whether the engine's node is the swarm's Raft leader.
type Leadership struct {
	c    *Client
	opts LeadershipOptions

	mu     sync.Mutex
	nodeID string // the engine's swarm node ID, once known
	// handedOver is set when the engine's own node events said that this
	// node stopped leading (leader.new=false, role.new=worker on it, or
	// leader.new=true on another node) after the last answer that it leads.
	// A check that then fails (the engine rotates its certificate after a
	// demotion and does not answer for about a second) is "not leader",
	// not unknown: the engine itself said so, and another manager already
	// leads.
	handedOver bool
}

var _ sources.Leadership = (*Leadership)(nil)

// NewLeadership watches the node of the engine c talks to. It does not
// contact the engine.
func NewLeadership(c *Client, opts LeadershipOptions) (*Leadership, error) {
	if c == nil {
		return nil, errors.New("swarm: NewLeadership needs a Client")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("swarm leadership: %w", err)
	}
	return &Leadership{c: c, opts: opts}, nil
}

// Check asks the engine once whether its node leads: NodeInspect of its own
// node, bounded by the client's CallTimeout. A worker is not the leader (no
// error). An unreachable or slow engine, or a swarm without a reachable
// leader, is unknown: an error. Holder is the node ID when it leads.
func (l *Leadership) Check(ctx context.Context) (sources.Status, error) {
	id, err := l.node(ctx)
	if err != nil {
		return sources.Status{}, err
	}
	var leader bool
	err = l.c.call(ctx, func(ctx context.Context) error {
		n, _, err := l.c.api.NodeInspectWithRaw(ctx, id)
		if err == nil && n.ManagerStatus != nil {
			leader = n.ManagerStatus.Leader
		}
		return err
	})
	switch {
	case err == nil:
		st := sources.Status{Leader: leader}
		if leader {
			st.Holder = id
			l.setHandedOver(false)
		}
		return st, nil
	case isWorker(err), isNoManager(err):
		return sources.Status{}, nil
	case cerrdefs.IsNotFound(err) || isNotInSwarm(err):
		// The node left the swarm (and may join again under a new ID).
		l.forget(id)
	}
	if l.wasHandedOver() {
		l.opts.Log.V(1).Info("engine does not answer after announcing a handover: not leader", "host", l.c.host, "error", err.Error())
		return sources.Status{}, nil
	}
	return sources.Status{}, fmt.Errorf("swarm leadership: inspect node %s at %s: %w", id, l.c.host, err)
}

// node returns the engine's node ID, asking the engine (Info) until it is
// known. Info is slow (it carries the whole cluster spec with its labels),
// so the answer is kept.
func (l *Leadership) node(ctx context.Context) (string, error) {
	l.mu.Lock()
	id := l.nodeID
	l.mu.Unlock()
	if id != "" {
		return id, nil
	}
	var state string
	err := l.c.call(ctx, func(ctx context.Context) error {
		info, err := l.c.api.Info(ctx)
		id, state = info.Swarm.NodeID, string(info.Swarm.LocalNodeState)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("swarm leadership: engine info at %s: %w", l.c.host, err)
	}
	if id == "" {
		return "", fmt.Errorf("swarm leadership: engine at %s is not part of a swarm (state %q)", l.c.host, state)
	}
	l.mu.Lock()
	l.nodeID = id
	l.mu.Unlock()
	l.opts.Log.V(1).Info("found swarm node", "host", l.c.host, "node", id)
	return id, nil
}

func (l *Leadership) forget(id string) {
	l.mu.Lock()
	if l.nodeID == id {
		l.nodeID = ""
	}
	l.mu.Unlock()
}

// isWorker: the engine refuses cluster calls because its node is a worker
// (its text on engines 20.10 to 28).
func isWorker(err error) bool {
	return strings.Contains(err.Error(), "Worker nodes can't be used")
}

// isNoManager: the engine answered, but its node no longer runs a swarm
// manager: its local control socket is gone (a demoted node answers this
// for seconds, from about a second after the demotion, until it has
// become a worker). A node that runs no manager cannot lead.
func isNoManager(err error) bool {
	s := err.Error()
	return strings.Contains(s, "swarm/control.sock") &&
		(strings.Contains(s, "no such file or directory") || strings.Contains(s, "connection refused"))
}

// isNotInSwarm: the engine has left the swarm, or never joined.
func isNotInSwarm(err error) bool {
	s := err.Error()
	return strings.Contains(s, "not part of a swarm") || strings.Contains(s, `Use "docker swarm init"`)
}

func (l *Leadership) setHandedOver(v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handedOver = v
}

func (l *Leadership) wasHandedOver() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.handedOver
}

// noteNodeEvent records what a node event of the engine says about this
// node's leadership: the engine's own word that it no longer leads.
func (l *Leadership) noteNodeEvent(id string, attrs map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.nodeID == "" {
		return
	}
	self := id == l.nodeID
	if (self && (attrs["leader.new"] == "false" || attrs["role.new"] == "worker")) ||
		(!self && attrs["leader.new"] == "true") {
		l.handedOver = true
	}
}
