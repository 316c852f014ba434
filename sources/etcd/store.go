package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Fencer is what a fenced Store asks before each write: the leader key the
// write must be guarded by, or an error wrapping ErrNotLeader.
type Fencer interface {
	Fence() (Fence, error)
}

var (
	_ Fencer              = (*Leadership)(nil)
	_ sources.ChangeSaver = (*Store)(nil)
)

// StoreOptions configures a Store. Start from DefaultStoreOptions.
type StoreOptions struct {
	// Prefix is the key prefix; groups live under <Prefix>/groups/. It
	// starts with '/', does not end with one and has no empty segment.
	// Defaults to "/infrakit".
	Prefix string
	// Fence, when set, guards every write by the leader key (normally the
	// Leadership of the same prefix). Nil writes unfenced (migration tools).
	Fence Fencer
	// CallTimeout bounds every etcd call but the initial listing. Must be
	// > 0. Defaults to 2s.
	CallTimeout time.Duration
	// MaxTxnOps is the cluster's --max-txn-ops (etcd's default 128). One
	// Save changes at most MaxTxnOps−2 groups. At least 3. Defaults to 128.
	MaxTxnOps int
	// MaxEntryBytes caps one group's stored value. Must be > 0. Defaults
	// to 1 MiB, under etcd's default 1.5 MiB request limit.
	MaxEntryBytes int
	// Log receives diagnostics. The zero Logger discards.
	Log logr.Logger
}

// DefaultStoreOptions returns the defaults.
func DefaultStoreOptions() StoreOptions {
	return StoreOptions{Prefix: "/infrakit", CallTimeout: 2 * time.Second, MaxTxnOps: 128, MaxEntryBytes: 1 << 20}
}

// Validate checks the fields without changing them. Errors name fields.
func (o StoreOptions) Validate() error {
	var errs []error
	if o.CallTimeout <= 0 {
		errs = append(errs, field.Errorf("CallTimeout", "must be > 0, got %s", o.CallTimeout))
	}
	if o.MaxTxnOps < 3 {
		errs = append(errs, field.Errorf("MaxTxnOps", "must be at least 3, got %d", o.MaxTxnOps))
	}
	if o.MaxEntryBytes <= 0 {
		errs = append(errs, field.Errorf("MaxEntryBytes", "must be > 0, got %d", o.MaxEntryBytes))
	}
	return errors.Join(append(errs, validPrefix(o.Prefix))...)
}

// Store keeps one key per group under <Prefix>/groups/ and answers Load
// from a watched cache. See the package doc for the write protocol.
type Store struct {
	cli  *clientv3.Client
	opts StoreOptions
	keys layout
	log  logr.Logger

	cancel  context.CancelFunc
	done    chan struct{} // follow returned
	caught  chan struct{} // catchUpLoop returned
	ready   chan struct{} // closed after the first listing
	once    sync.Once
	catchUp chan struct{} // capacity 1: Current wants the cache at s.want

	saveMu sync.Mutex // one Save at a time: its diff must not race another's write-through

	mu          sync.Mutex
	c           *cache
	lastErr     error              // why the cache is not ready (listing error)
	listed      bool               // a listing has completed
	relisting   bool               // the watch ended; the cache may miss writes until the next listing
	watchCancel context.CancelFunc // ends the current watch (relist)
	want        int64              // the revision Current was last asked for
	wake        func()             // called once the cache reaches want
}

// NewStore validates opts and starts listing and watching the prefix in the
// background until Close.
func NewStore(cli *clientv3.Client, opts StoreOptions) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("etcd store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cli: cli, opts: opts, keys: layout{opts.Prefix}, log: opts.Log,
		cancel: cancel, done: make(chan struct{}), caught: make(chan struct{}), ready: make(chan struct{}),
		catchUp: make(chan struct{}, 1), c: newCache(),
	}
	go s.follow(ctx)
	go func() { defer close(s.caught); s.catchUpLoop(ctx) }()
	return s, nil
}

// Close stops the watch.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	<-s.caught
	return nil
}

// Load returns a deep copy of the cached config and its version. Before the
// first listing it waits for it until ctx is done. While the watch is being
// re-established (it ended: compaction, a broken stream, a member cut off)
// the cache may miss writes: Load fails with ErrViewBehind then (unknown,
// never an old view).
func (s *Store) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	if err := s.waitReady(ctx); err != nil {
		return sources.Config{}, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relisting {
		return sources.Config{}, "", fmt.Errorf("%w: the watch of %s ended; listing again", ErrViewBehind, s.keys.groups())
	}
	return s.c.snapshot(), s.c.version(), nil
}

func (s *Store) waitReady(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.lastErr != nil {
			return fmt.Errorf("%w: %w (%v)", ErrNotReady, ctx.Err(), s.lastErr)
		}
		return fmt.Errorf("%w: %w", ErrNotReady, ctx.Err())
	}
}

// change is one key a Save writes.
type change struct {
	dest   bool // a pending destroy's key (destroying.go), not a group's
	id     plugin.ID
	value  []byte // nil: delete
	modRev int64  // what the cache held (0: absent)
}

// Save writes the groups of cfg that differ from the cache, in one Txn, if
// the cache's version equals expected. It compares every group of cfg with
// the cache; SaveChanged compares only the groups it is told changed. See
// the package doc.
func (s *Store) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	return s.save(ctx, expected, func() ([]change, int64, error) { return s.diff(cfg, expected) })
}

// SaveChanged is Save when cfg equals the config stored at expected but for
// the groups in changed: only those are compared with the cache, so its
// cost does not grow with the stored groups.
func (s *Store) SaveChanged(ctx context.Context, cfg sources.Config, expected sources.Version, changed []plugin.ID) (sources.Version, error) {
	return s.save(ctx, expected, func() ([]change, int64, error) { return s.diffOnly(cfg, expected, changed) })
}

// save writes the changes diff finds, under saveMu, fenced.
func (s *Store) save(ctx context.Context, expected sources.Version, diff func() ([]change, int64, error)) (sources.Version, error) {
	if err := s.waitReady(ctx); err != nil {
		return "", err
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()

	changes, metaRev, err := diff()
	if err != nil {
		return "", err
	}
	var fence Fence
	if s.opts.Fence != nil {
		if fence, err = s.opts.Fence.Fence(); err != nil {
			return "", fmt.Errorf("save config: %w", err)
		}
	}
	if len(changes) == 0 {
		return expected, nil
	}
	if len(changes) > s.opts.MaxTxnOps-2 {
		return "", fmt.Errorf("save config: %w: %d groups changed at once, at most %d fit etcd's --max-txn-ops %d",
			sources.ErrTooLarge, len(changes), s.opts.MaxTxnOps-2, s.opts.MaxTxnOps)
	}
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.keys.versionKey()), "=", metaRev)}
	ops := make([]clientv3.Op, 0, len(changes)+1)
	for _, ch := range changes {
		key := s.keys.keyOf(ch)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", ch.modRev))
		if ch.value == nil {
			ops = append(ops, clientv3.OpDelete(key))
		} else {
			ops = append(ops, clientv3.OpPut(key, string(ch.value)))
		}
	}
	ops = append(ops, clientv3.OpPut(s.keys.versionKey(), ""))
	var orElse []clientv3.Op
	if fence.Key != "" {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(fence.Key), "=", fence.Rev))
		orElse = append(orElse, clientv3.OpGet(fence.Key))
	}

	tctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	resp, err := s.cli.Txn(tctx).If(cmps...).Then(ops...).Else(orElse...).Commit()
	if err != nil {
		if isNoSpace(err) {
			return "", fmt.Errorf("save config: %w: nothing was written (%v)", ErrNoSpace, err)
		}
		return "", fmt.Errorf("save config: etcd txn (outcome unknown; reload before retrying): %w", err)
	}
	if !resp.Succeeded {
		if fence.Key != "" {
			kvs := resp.Responses[0].GetResponseRange().Kvs
			if len(kvs) == 0 || kvs[0].CreateRevision != fence.Rev {
				return "", fmt.Errorf("save config: %w: leader key %s is gone", ErrNotLeader, fence.Key)
			}
		}
		return "", fmt.Errorf("save config: %w", sources.ErrConflict)
	}
	rev := resp.Header.Revision
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range changes {
		s.c.apply(s.keys, s.keys.keyOf(ch), ch.value, ch.value != nil, rev, s.opts.MaxEntryBytes, s.logBad)
	}
	s.c.apply(s.keys, s.keys.versionKey(), []byte{}, true, rev, s.opts.MaxEntryBytes, s.logBad)
	return sources.Version(strconv.FormatInt(rev, 10)), nil
}

// diff checks expected against the cache and lists the changed groups,
// sorted by ID, with the ModRevisions the Txn must still find.
func (s *Store) diff(cfg sources.Config, expected sources.Version) ([]change, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.c.version(); v != expected {
		return nil, 0, fmt.Errorf("save config: %w (stored %q, expected %q)", sources.ErrConflict, v, expected)
	}
	var out []change
	kept := 0 // cached groups that cfg still holds
	for id, e := range cfg.Groups {
		ch, cached, err := s.compare(id, e)
		if err != nil {
			return nil, 0, err
		}
		if cached {
			kept++
		}
		if ch != nil {
			out = append(out, *ch)
		}
	}
	if kept < len(s.c.groups) { // some cached group is gone from cfg
		for id, old := range s.c.groups {
			if _, keep := cfg.Groups[id]; !keep {
				out = append(out, change{id: id, modRev: old.modRev})
			}
		}
	}
	dest, err := s.diffDestroying(cfg.Destroying, nil)
	if err != nil {
		return nil, 0, err
	}
	out = append(out, dest...)
	sortChanges(out)
	return out, s.c.metaRev, nil
}

// diffOnly is diff for the groups named in ids alone: each is compared
// with the cache, or deleted when cfg no longer holds it (an unreadable
// key, which cfg never holds, is left alone as by diff).
func (s *Store) diffOnly(cfg sources.Config, expected sources.Version, ids []plugin.ID) ([]change, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.c.version(); v != expected {
		return nil, 0, fmt.Errorf("save config: %w (stored %q, expected %q)", sources.ErrConflict, v, expected)
	}
	var out []change
	seen := make(map[plugin.ID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if e, ok := cfg.Groups[id]; ok {
			ch, _, err := s.compare(id, e)
			if err != nil {
				return nil, 0, err
			}
			if ch != nil {
				out = append(out, *ch)
			}
			continue
		}
		if old, ok := s.c.groups[id]; ok { // an unreadable key is left alone, as by Save
			out = append(out, change{id: id, modRev: old.modRev})
		}
	}
	dest, err := s.diffDestroying(cfg.Destroying, ids)
	if err != nil {
		return nil, 0, err
	}
	out = append(out, dest...)
	sortChanges(out)
	return out, s.c.metaRev, nil
}

// compare returns the change that stores e as group id (nil when the cache
// holds it already) and whether the cache holds id. An unreadable stored
// value is never overwritten. s.mu is held.
func (s *Store) compare(id plugin.ID, e sources.Entry) (*change, bool, error) {
	return s.compareIn(s.c, id, e)
}

// compareIn is compare against the entries of c (the groups or the
// pending destroys).
func (s *Store) compareIn(c *cache, id plugin.ID, e sources.Entry) (*change, bool, error) {
	if _, bad := c.bad[id]; bad {
		return nil, false, fmt.Errorf("save group %q: %w: %w", id, sources.ErrCorrupt, errUnreadable)
	}
	old, ok := c.groups[id]
	if ok && old.entry.Plugin == e.Plugin && string(old.entry.Properties) == string(e.Properties) {
		return nil, true, nil
	}
	v, err := encodeEntry(id, e, s.opts.MaxEntryBytes)
	if err != nil {
		return nil, ok, err
	}
	return &change{id: id, value: v, modRev: old.modRev}, ok, nil
}

// logBad reports a key that cannot be read; the cache skips it.
func (s *Store) logBad(key string, id plugin.ID, err error) {
	s.log.Error(err, "stored group skipped; it is never overwritten", "group", string(id), "key", key)
}
