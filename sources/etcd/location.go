package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/sources"
)

// Location is the etcd mode's sources.LocationStore: one key,
// <prefix>/leader-location, holding {"Holder":…,"URL":…}. Holder is the
// leader's election value (its candidate name), so a follower uses the URL
// only while the election names that holder; the election value itself is
// left as it is (every replica compares it and shows it as the leader).
type Location struct {
	cli     *clientv3.Client
	key     string
	timeout time.Duration
}

var _ sources.LocationStore = (*Location)(nil)

// NewLocation returns the location key under prefix (see validPrefix);
// every call is bounded by timeout (default 2s).
func NewLocation(cli *clientv3.Client, prefix string, timeout time.Duration) (*Location, error) {
	if cli == nil {
		return nil, errors.New("etcd location: a client is required")
	}
	if err := validPrefix(prefix); err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Location{cli: cli, key: prefix + "/leader-location", timeout: timeout}, nil
}

// Key returns the location's key.
func (l *Location) Key() string { return l.key }

// Publish puts loc (a quorum write: durable when it returns).
func (l *Location) Publish(ctx context.Context, loc sources.Location) error {
	data, err := json.Marshal(loc)
	if err != nil {
		return fmt.Errorf("publish leader location: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	if _, err := l.cli.Put(clientv3.WithRequireLeader(ctx), l.key, string(data)); err != nil {
		return fmt.Errorf("publish leader location %s: %w", l.key, err)
	}
	return nil
}

// Load reads the key; absent is the zero Location.
func (l *Location) Load(ctx context.Context) (sources.Location, error) {
	loc, _, err := l.load(ctx)
	return loc, err
}

func (l *Location) load(ctx context.Context) (sources.Location, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	resp, err := l.cli.Get(clientv3.WithRequireLeader(ctx), l.key)
	if err != nil {
		return sources.Location{}, 0, fmt.Errorf("read leader location %s: %w", l.key, err)
	}
	if len(resp.Kvs) == 0 {
		return sources.Location{}, 0, nil
	}
	var loc sources.Location
	if err := json.Unmarshal(resp.Kvs[0].Value, &loc); err != nil {
		return sources.Location{}, 0, fmt.Errorf("read leader location %s: %w: %w", l.key, sources.ErrCorrupt, err)
	}
	return loc, resp.Kvs[0].ModRevision, nil
}

// Clear deletes the key if it names holder and has not changed since it
// was read (a successor's write in between is kept).
func (l *Location) Clear(ctx context.Context, holder string) error {
	loc, rev, err := l.load(ctx)
	if err != nil || loc.Holder != holder || holder == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	_, err = l.cli.Txn(clientv3.WithRequireLeader(ctx)).
		If(clientv3.Compare(clientv3.ModRevision(l.key), "=", rev)).
		Then(clientv3.OpDelete(l.key)).Commit()
	if err != nil {
		return fmt.Errorf("clear leader location %s: %w", l.key, err)
	}
	return nil
}
