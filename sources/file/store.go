package file

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

const (
	// configFileName is the original's store file inside the store dir.
	configFileName = "global.config"
	// lockFileName serialises writers (in this and other processes).
	lockFileName = ".global.config.lock"
	// tempFilePrefix names the temp files a save renames over the config.
	tempFilePrefix = ".global.config.tmp-"
)

// Store keeps the Config in <Dir>/global.config, byte-compatible with
// the original manager's os-mode store.
//
// The Version is a digest of the config ("cfg:<hex>"): the sum of the
// SHA-256 of each group as encoded in the file. It depends only on the
// stored config, so every process computes the same version for the same
// config, and a writer that loaded A still succeeds after A->B->A. A missing
// file is the empty Version.
//
// Saves cost what changed, not what is stored: each group's encoding is
// kept once made, and a save encodes only the groups that changed, then
// writes the file from the kept encodings, byte-identical to EncodeConfig.
// Load serves the config from memory while the file is unchanged, checked
// with one stat (device, inode, size, modification and change times, see
// stamp); a file that changed is read again, and recognised without
// decoding if it holds exactly what this store last wrote.
//
// Save is safe between goroutines and between processes sharing Dir: the
// new file is written and fsynced as a temp file in Dir, then, under an
// flock(2) of <Dir>/.global.config.lock, the version is checked again and
// the temp file renamed over the config, and Dir is fsynced. A crash leaves
// either the old or the new file plus, at worst, a temp file that Load
// ignores and a later save removes (once nobody holds it locked and it is
// 10 s old, so that other writers' prepared saves survive). Load takes no lock: rename makes every
// read see one whole file. Store also implements Stager.
//
// Reading is defensive: only a regular file is opened (with O_NONBLOCK, so
// a FIFO at the path is an error, not a hang), a file over MaxBytes is
// refused, an empty file is ErrCorrupt (it says nothing; "{}" means no
// groups), and a file that cannot be decoded is reported with its line and
// column and never overwritten.
//
// A store that vanished is unknown, never empty (see checkPresent): a
// missing global.config is the empty config only until this store has read
// or written one; after that, and at any time for a missing Dir or a Dir on
// another file system than at start, Load and Save fail with ErrStoreGone
// until the store is back. Writing {} to global.config resets it.
//
// Differences from the original: the file is written 0600 (the original used
// 0644); Dir must exist (or Create be set); a missing file is an empty
// config rather than an error until one was seen. Limits: flock is advisory and only
// protects writers that use it (hand edits should write-and-rename); a
// global.config that is a symlink is replaced by a regular file; see stamp
// for the one edit in place the version check can miss.
type Store struct {
	dir      string
	path     string
	maxBytes int64
	log      logr.Logger

	dirDev uint64      // the file system Dir was on when the store was made
	seen   atomic.Bool // a global.config was read or written by this store

	mu  sync.Mutex
	cur *fileState // what the file held when this store last looked; nil: never looked
	buf []byte     // the last save's write buffer, kept for the next one
}

// takeBuffer returns an empty buffer of at least size bytes' capacity.
func (s *Store) takeBuffer(size int64) []byte {
	s.mu.Lock()
	buf := s.buf
	s.buf = nil
	s.mu.Unlock()
	if int64(cap(buf)) < size {
		return make([]byte, 0, size)
	}
	return buf[:0]
}

// returnBuffer keeps buf for the next save.
func (s *Store) returnBuffer(buf []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(buf) > cap(s.buf) {
		s.buf = buf
	}
}

// fileState is one known content of the config file. It is never changed
// once made; a new one replaces it.
type fileState struct {
	exists  bool
	stamp   stamp
	layout  *layout
	version sources.Version

	groupsOnce sync.Once
	groups     map[plugin.ID]sources.Entry // built on first Load, then cloned for each
}

var (
	_ sources.Store  = (*Store)(nil)
	_ sources.Stager = (*Store)(nil)
)

// NewStore validates opts, checks that Dir is a directory, and notes which file system Dir is on. It
// creates Dir (0700) if it is missing and opts.Create is set, and nothing
// else; the first Save writes global.config.
func NewStore(opts StoreOptions) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	if err := opts.checkDir(); err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	dir := filepath.Clean(opts.Dir)
	if opts.Create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("file store: %w", field.Errorf("Dir", "%s: create: %w", dir, err))
		}
	}
	dev, err := dirDevice(dir)
	if err != nil {
		return nil, fmt.Errorf("file store: %w", field.Errorf("Dir", "%w", err))
	}
	path := filepath.Join(dir, configFileName)
	return &Store{dir: dir, path: path, maxBytes: opts.MaxBytes, dirDev: dev, log: opts.Log.WithValues("path", path)}, nil
}

// Path returns the config file, <Dir>/global.config.
func (s *Store) Path() string { return s.path }

// Load returns the config and its version. A missing file is an empty
// Config and the empty Version; a file that cannot be read or decoded is an
// error naming it (ErrCorrupt, ErrTooLarge or the system's).
//
// While the file is unchanged Load costs one stat and a copy of the Groups
// map: the returned map is the caller's, but the Properties in it are
// shared with the store and with other callers, so they must never be
// changed in place (replace an Entry instead, or use Config.Clone).
func (s *Store) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	st, err := s.refresh(ctx)
	if err != nil {
		return sources.Config{}, "", err
	}
	cfg := sources.Config{Destroying: st.layout.dest}.Clone() // Destroying copied deep; Groups shallow below
	cfg.Groups = maps.Clone(st.decoded())
	return cfg, st.version, nil
}

// Save writes cfg if the stored version still equals expected and returns
// the new version. It returns an error wrapping ErrConflict if the version
// differs, ErrCorrupt (without writing) if the stored file cannot be
// decoded, and ErrTooLarge if cfg encodes to more than MaxBytes. Waiting for
// another writer's lock honours ctx. Save is Prepare then Commit.
func (s *Store) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	p, err := s.Prepare(ctx, cfg, expected)
	if err != nil {
		return "", err
	}
	defer p.Abort()
	return p.Commit(ctx)
}

// current returns what the store last saw, or nil.
func (s *Store) current() *fileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// refresh returns the file's current state: the known one if the stamp is
// unchanged, else the file read again.
func (s *Store) refresh(ctx context.Context) (*fileState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	known := s.current()
	st, exists, err := s.statConfig()
	if err != nil {
		return nil, err
	}
	if err := s.checkPresent(st, exists); err != nil {
		return nil, err
	}
	if known != nil && known.exists == exists && (!exists || known.stamp == st) {
		return known, nil
	}
	if !exists {
		return s.install(known, &fileState{layout: newLayout(nil)}), nil
	}
	data, st, exists, err := s.readConfig(ctx)
	switch {
	case err != nil:
		return nil, err
	case !exists:
		if err := s.checkPresent(st, false); err != nil {
			return nil, err
		}
		return s.install(known, &fileState{layout: newLayout(nil)}), nil
	case known != nil && known.exists && known.layout.matches(data):
		// What we last saw (or wrote), touched or re-written unchanged.
		next := &fileState{exists: true, stamp: st, layout: known.layout, version: known.version}
		return s.install(known, next), nil
	}
	next, err := s.parse(data, st)
	if err != nil {
		return nil, err
	}
	s.log.V(1).Info("config changed on disk", "groups", len(next.layout.order), "version", string(next.version))
	return s.install(known, next), nil
}

// parse decodes a file this store did not write and encodes each group.
func (s *Store) parse(data []byte, st stamp) (*fileState, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("config file %s: %w: the file is empty; write {} to it to mean \"no groups\"", s.path, sources.ErrCorrupt)
	}
	cfg, err := sources.DecodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", s.path, err)
	}
	frags := make(map[plugin.ID]*fragment, len(cfg.Groups))
	for id, e := range cfg.Groups {
		f, err := encodeDecoded(id, e)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w: %w", s.path, sources.ErrCorrupt, err)
		}
		frags[id] = f
	}
	l := newLayout(frags)
	if err := l.setDestroying(cfg.Destroying); err != nil {
		return nil, fmt.Errorf("config file %s: %w: %w", s.path, sources.ErrCorrupt, err)
	}
	return &fileState{exists: true, stamp: st, layout: l, version: l.version()}, nil
}

// install makes next the current state unless someone installed another
// since known was current, and returns next.
func (s *Store) install(known, next *fileState) *fileState {
	if next.exists {
		s.seen.Store(true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == known {
		s.cur = next
	}
	return next
}

// decoded returns the state's groups; the map is shared and read-only.
func (st *fileState) decoded() map[plugin.ID]sources.Entry {
	st.groupsOnce.Do(func() {
		st.groups = make(map[plugin.ID]sources.Entry, len(st.layout.frags))
		for id, f := range st.layout.frags {
			st.groups[id] = f.entry
		}
	})
	return st.groups
}
