package swarm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/docker/docker/api/types/swarm"
	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

// raftMaxBytes is swarmkit's cap on one Raft entry (1.5 MiB). The whole
// cluster object, all labels together, must fit under it; the longest single
// label measured to pass was 1,571,417 bytes.
const raftMaxBytes = 1572864

// StoreOptions configures a Store. Start from DefaultStoreOptions.
type StoreOptions struct {
	// Label is the cluster-spec label that holds the config. Required.
	// Defaults to "infrakit", the original's.
	Label string
	// MaxLabelBytes is the largest encoded label Save writes. Must be in
	// 1..1.5 MiB (the engine's Raft cap). Defaults to 1 MiB, which leaves
	// room under the cap for the rest of the cluster object and other labels.
	MaxLabelBytes int
	// MaxRetries bounds the retries of a Save whose update raced another
	// change of the cluster spec ("update out of sequence"). 0 means no
	// retry. Defaults to 5.
	MaxRetries int
	// Log receives diagnostics. The zero Logger discards.
	Log logr.Logger
}

// DefaultStoreOptions returns the defaults.
func DefaultStoreOptions() StoreOptions {
	return StoreOptions{Label: "infrakit", MaxLabelBytes: 1 << 20, MaxRetries: 5}
}

// Validate checks the fields without changing them. Errors name fields.
func (o StoreOptions) Validate() error {
	var errs []error
	switch {
	case o.Label == "":
		errs = append(errs, field.Errorf("Label", "must not be empty"))
	case strings.TrimSpace(o.Label) != o.Label:
		errs = append(errs, field.Errorf("Label", "%q has surrounding blanks", o.Label))
	}
	if o.MaxLabelBytes <= 0 || o.MaxLabelBytes > raftMaxBytes {
		errs = append(errs, field.Errorf("MaxLabelBytes", "must be in 1..%d, got %d", raftMaxBytes, o.MaxLabelBytes))
	}
	if o.MaxRetries < 0 {
		errs = append(errs, field.Errorf("MaxRetries", "must be >= 0, got %d", o.MaxRetries))
	}
	return errors.Join(errs...)
}

// Store keeps the Config in one label of the swarm's cluster spec, in the
// original's format (see EncodeLabel), so the original and this store read
// each other's data.
//
// The Version is a hash of the label value; no label (or an empty value) is
// the empty Version. Unrelated changes to the cluster spec therefore never
// conflict. Save is a compare-and-swap: it inspects the swarm, checks the
// label against the expected version, and updates the spec with the swarm's
// own version, so a concurrent change of the spec makes the engine refuse
// the update ("update out of sequence"); Save then inspects again and
// retries, re-checking the label each time. A label that does not decode is
// reported as sources.ErrCorrupt and never overwritten.
type Store struct {
	c    *Client
	opts StoreOptions
	enc  file.Encoder // keeps each group's JSON between saves
	seen atomic.Bool  // this store read or wrote the label

	// beforeUpdate, if set (by tests only), runs between the inspect and the
	// update of each attempt, to force "update out of sequence".
	beforeUpdate func(attempt int)
}

var (
	_ sources.Store  = (*Store)(nil)
	_ sources.Stager = (*Store)(nil)
)

// NewStore makes a store on the swarm of the engine c talks to. It does not
// contact the engine.
func NewStore(c *Client, opts StoreOptions) (*Store, error) {
	if c == nil {
		return nil, errors.New("swarm: NewStore needs a Client")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("swarm store: %w", err)
	}
	return &Store{c: c, opts: opts}, nil
}

// Load returns the stored config and its version. No label is an empty
// config and the empty Version until this store has read or written the
// label; after that a label that is gone (removed, or the swarm was
// re-created) is sources.ErrStoreGone: unknown, never empty.
func (s *Store) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	// Seen is read before the inspect: a save that lands meanwhile (and sets
	// it) must not make this older view of the spec look like a vanished
	// label.
	seenBefore := s.seen.Load()
	sw, err := s.inspect(ctx)
	if err != nil {
		return sources.Config{}, "", err
	}
	v := sw.Spec.Labels[s.opts.Label]
	if v == "" && seenBefore {
		return sources.Config{}, "", fmt.Errorf("swarm store: label %q at %s: %w: this manager read or wrote it before and it is gone now; "+
			"nothing is changed until it is back: restore it, or set it to the encoding of no groups to reset the store", s.opts.Label, s.c.host, sources.ErrStoreGone)
	}
	if v == "" {
		return sources.Config{Groups: map[plugin.ID]sources.Entry{}}, "", nil
	}
	cfg, err := DecodeLabel(v)
	if err != nil {
		return sources.Config{}, "", fmt.Errorf("swarm store: label %q at %s: %w", s.opts.Label, s.c.host, err)
	}
	s.seen.Store(true)
	return cfg, versionOf(v), nil
}

// Save stores cfg if the label still has the expected version, and returns
// the new version. See Store for the retry and the refusals. Save is
// Prepare then Commit.
func (s *Store) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	p, err := s.Prepare(ctx, cfg, expected)
	if err != nil {
		return "", err
	}
	return p.Commit(ctx)
}

// Prepare encodes cfg into the label value (re-encoding only the groups
// that changed since the last encode, then compressing) and refuses it with
// sources.ErrTooLarge if it exceeds MaxLabelBytes. It does not contact the
// engine: the version is checked by Commit, in the update itself.
func (s *Store) Prepare(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("swarm store: %w", err)
	}
	data, err := s.enc.Encode(cfg)
	if err != nil {
		return nil, fmt.Errorf("swarm store: %w", err)
	}
	value, err := compressLabel(data)
	if err != nil {
		return nil, fmt.Errorf("swarm store: %w", err)
	}
	if len(value) > s.opts.MaxLabelBytes {
		return nil, fmt.Errorf("swarm store: %w: the encoded label is %d bytes, the limit is %d bytes (--max-label-bytes)",
			sources.ErrTooLarge, len(value), s.opts.MaxLabelBytes)
	}
	return &pending{s: s, value: value, expected: expected}, nil
}

// pending is a prepared label update.
type pending struct {
	s        *Store
	value    string
	expected sources.Version

	mu   sync.Mutex
	done bool
}

var _ sources.Pending = (*pending)(nil)

// Commit writes the label if it still has the expected version.
func (p *pending) Commit(ctx context.Context) (sources.Version, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return "", errors.New("swarm store: this prepared save was already committed or aborted")
	}
	p.done = true
	v, err := p.s.update(ctx, p.value, p.expected)
	if err == nil {
		p.s.seen.Store(true)
	}
	return v, err
}

// Abort discards the prepared update; nothing was sent.
func (p *pending) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
}

// update is the compare-and-swap of the label, retried on "update out of
// sequence".
func (s *Store) update(ctx context.Context, value string, expected sources.Version) (sources.Version, error) {
	for attempt := 1; ; attempt++ {
		sw, err := s.inspect(ctx)
		if err != nil {
			return "", err
		}
		cur := sw.Spec.Labels[s.opts.Label]
		if cur != "" {
			if _, err := DecodeLabel(cur); err != nil {
				return "", fmt.Errorf("swarm store: refusing to overwrite label %q at %s: %w", s.opts.Label, s.c.host, err)
			}
		}
		if got := versionOf(cur); got != expected {
			return "", fmt.Errorf("swarm store: label %q is at version %q, expected %q: %w",
				s.opts.Label, got, expected, sources.ErrConflict)
		}
		if cur == value {
			return expected, nil // nothing to write
		}
		spec := sw.Spec
		spec.Labels = maps.Clone(spec.Labels)
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		spec.Labels[s.opts.Label] = value
		if s.beforeUpdate != nil {
			s.beforeUpdate(attempt)
		}
		err = s.c.call(ctx, func(ctx context.Context) error {
			return s.c.api.SwarmUpdate(ctx, sw.Version, spec, swarm.UpdateFlags{})
		})
		switch {
		case err == nil:
			return versionOf(value), nil
		case !isOutOfSequence(err):
			return "", fmt.Errorf("swarm store: update swarm at %s: %w", s.c.host, err)
		case attempt > s.opts.MaxRetries:
			return "", fmt.Errorf("swarm store: update swarm at %s: gave up after %d attempts: %w", s.c.host, attempt, err)
		}
		s.opts.Log.V(1).Info("cluster spec changed during save, retrying", "label", s.opts.Label, "attempt", attempt)
	}
}

func (s *Store) inspect(ctx context.Context) (swarm.Swarm, error) {
	var sw swarm.Swarm
	err := s.c.call(ctx, func(ctx context.Context) error {
		var err error
		sw, err = s.c.api.SwarmInspect(ctx)
		return err
	})
	if err != nil {
		return swarm.Swarm{}, fmt.Errorf("swarm store: inspect swarm at %s: %w", s.c.host, err)
	}
	return sw, nil
}

// isOutOfSequence: the swarm changed between our inspect and our update.
func isOutOfSequence(err error) bool {
	return strings.Contains(err.Error(), "update out of sequence")
}
