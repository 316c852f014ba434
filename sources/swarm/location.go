package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/docker/docker/api/types/swarm"

	"github.com/infrakit-manager/manager/sources"
)

// DefaultLocationLabel is the cluster spec label holding the leader's
// location: a label of its own beside the groups' ("infrakit"), which the
// original manager never reads.
const DefaultLocationLabel = "infrakit.leader-location"

// maxLocationRetries bounds the retries of a cluster spec update that lost a
// race ("update out of sequence").
const maxLocationRetries = 10

// Location is the swarm mode's sources.LocationStore: the JSON
// {"Holder":…,"URL":…} in a cluster spec label, written through Raft
// (durable when the update returns). Holder is the leader's node ID.
type Location struct {
	c     *Client
	label string
}

var _ sources.LocationStore = (*Location)(nil)

// NewLocation returns the location label (DefaultLocationLabel when "").
func NewLocation(c *Client, label string) (*Location, error) {
	if c == nil {
		return nil, errors.New("swarm location: a client is required")
	}
	if label == "" {
		label = DefaultLocationLabel
	}
	return &Location{c: c, label: label}, nil
}

// Publish sets the label to loc.
func (l *Location) Publish(ctx context.Context, loc sources.Location) error {
	data, err := json.Marshal(loc)
	if err != nil {
		return fmt.Errorf("publish leader location: %w", err)
	}
	v := string(data)
	return l.update(ctx, func(cur string) (string, bool) { return v, cur != v })
}

// Load reads the label; absent is the zero Location.
func (l *Location) Load(ctx context.Context) (sources.Location, error) {
	sw, err := l.inspect(ctx)
	if err != nil {
		return sources.Location{}, err
	}
	return parseLocation(sw.Spec.Labels[l.label])
}

// Clear removes the label if it names holder.
func (l *Location) Clear(ctx context.Context, holder string) error {
	if holder == "" {
		return nil
	}
	return l.update(ctx, func(cur string) (string, bool) {
		loc, err := parseLocation(cur)
		return "", err == nil && loc.Holder == holder
	})
}

func parseLocation(v string) (sources.Location, error) {
	if v == "" {
		return sources.Location{}, nil
	}
	var loc sources.Location
	if err := json.Unmarshal([]byte(v), &loc); err != nil {
		return sources.Location{}, fmt.Errorf("read leader location label: %w: %w", sources.ErrCorrupt, err)
	}
	return loc, nil
}

// update applies change to the label's current value ("" removes it) when
// change says so, retrying a lost race with another cluster spec update.
func (l *Location) update(ctx context.Context, change func(cur string) (string, bool)) error {
	for attempt := 1; ; attempt++ {
		sw, err := l.inspect(ctx)
		if err != nil {
			return err
		}
		next, ok := change(sw.Spec.Labels[l.label])
		if !ok {
			return nil
		}
		spec := sw.Spec
		spec.Labels = maps.Clone(spec.Labels)
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		if next == "" {
			delete(spec.Labels, l.label)
		} else {
			spec.Labels[l.label] = next
		}
		err = l.c.call(ctx, func(ctx context.Context) error {
			return l.c.api.SwarmUpdate(ctx, sw.Version, spec, swarm.UpdateFlags{})
		})
		switch {
		case err == nil:
			return nil
		case !isOutOfSequence(err) || attempt >= maxLocationRetries:
			return fmt.Errorf("swarm location: update swarm at %s: %w", l.c.host, err)
		}
	}
}

func (l *Location) inspect(ctx context.Context) (swarm.Swarm, error) {
	var sw swarm.Swarm
	err := l.c.call(ctx, func(ctx context.Context) error {
		var err error
		sw, err = l.c.api.SwarmInspect(ctx)
		return err
	})
	if err != nil {
		return swarm.Swarm{}, fmt.Errorf("swarm location: inspect swarm at %s: %w", l.c.host, err)
	}
	return sw, nil
}
