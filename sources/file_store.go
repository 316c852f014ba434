package sources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

const (
	// configFileName is the original's store file inside the store dir.
	configFileName = "global.config"
	// lockFileName serialises writers (in this and other processes).
	lockFileName = ".global.config.lock"
	// tempFilePrefix names the temp files a Save renames over the config.
	tempFilePrefix = ".global.config.tmp-"
	// versionPrefix marks a content-hash Version.
	versionPrefix = "sha256:"
)

// FileStoreOptions configures a FileStore.
type FileStoreOptions struct {
	// Dir is the store directory (the original's --store-dir). Required.
	// It need not exist: the first Save creates it with mode 0700.
	Dir string
	// Log receives diagnostics. Defaults to a logger that discards.
	Log logr.Logger
}

func (o *FileStoreOptions) validate() error {
	if strings.TrimSpace(o.Dir) == "" {
		return errors.New("sources: FileStoreOptions.Dir must not be empty")
	}
	fi, err := os.Stat(o.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("sources: FileStoreOptions.Dir: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("sources: FileStoreOptions.Dir %s is not a directory", o.Dir)
	}
	return nil
}

// FileStore keeps the Config in <Dir>/global.config, byte-compatible with
// the original manager's os-mode store.
//
// The Version is the SHA-256 of the file's bytes ("sha256:<hex>"); a missing
// file is the empty Version. Because the version is the content, saving the
// same bytes twice yields the same version, and a writer that loaded A still
// succeeds after A->B->A: what it read is exactly what is stored.
//
// Save is safe between goroutines and between processes sharing Dir: writers
// serialise on an flock(2) of <Dir>/.global.config.lock, re-check the version
// under the lock, and replace the file atomically (temp file in Dir, fsync,
// rename, fsync of Dir). A crash leaves either the old or the new file plus,
// at worst, a temp file that Load ignores and the next Save removes. Load
// takes no lock: rename makes every read see one whole file.
//
// Differences from the original: the file is written 0600 (the original used
// 0644) and the directory is created 0700 if missing; a missing file is an
// empty config rather than an error. Limits: flock is advisory and only
// protects writers that use it (hand edits should also write-and-rename);
// a global.config that is a symlink is replaced by a regular file.
type FileStore struct {
	dir  string
	path string
	log  logr.Logger

	mu       sync.Mutex
	readable Version // the last version this store decoded or wrote itself
}

var _ Store = (*FileStore)(nil)

// NewFileStore validates opts. It creates nothing; the first Save does.
func NewFileStore(opts FileStoreOptions) (*FileStore, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	dir := filepath.Clean(opts.Dir)
	return &FileStore{
		dir:  dir,
		path: filepath.Join(dir, configFileName),
		log:  opts.Log.WithValues("path", filepath.Join(dir, configFileName)),
	}, nil
}

// Path returns the config file, <Dir>/global.config.
func (s *FileStore) Path() string { return s.path }

// Load reads and decodes the config file. A missing file is an empty Config
// and the empty Version. A file that cannot be decoded is an error naming the
// path, line and column that wraps ErrCorrupt.
func (s *FileStore) Load(ctx context.Context) (Config, Version, error) {
	if err := ctx.Err(); err != nil {
		return Config{}, "", err
	}
	data, ver, err := s.read()
	if err != nil {
		return Config{}, "", err
	}
	cfg, err := s.decode(data)
	if err != nil {
		return Config{}, "", err
	}
	s.setReadable(ver)
	return cfg, ver, nil
}

// setReadable records a version known to decode: this store decoded it
// (Load) or wrote it (Save).
func (s *FileStore) setReadable(v Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readable = v
}

func (s *FileStore) knownReadable(v Version) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return v != "" && v == s.readable
}

// Save writes cfg if the stored version still equals expected and returns
// the new version. It returns an error wrapping ErrConflict if the version
// differs and one wrapping ErrCorrupt, without writing, if the stored file
// cannot be decoded (a corrupt file is reported even when expected matches).
// Waiting for another writer's lock honours ctx.
func (s *FileStore) Save(ctx context.Context, cfg Config, expected Version) (Version, error) {
	data, err := EncodeConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return "", fmt.Errorf("save config: create store dir: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(s.dir, lockFileName))
	if err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	defer unlock()

	current, ver, err := s.read()
	if err != nil {
		return "", err
	}
	// A corrupt file is reported as corrupt and never overwritten, so the
	// bytes must be decoded, unless they are exactly what this store last
	// decoded or wrote itself: then nothing raced us and a save is one
	// decode-free pass, which matters with thousands of groups.
	if ver != "" && !s.knownReadable(ver) {
		if _, err := s.decode(current); err != nil {
			return "", err
		}
	}
	if ver != expected {
		return "", fmt.Errorf("save config %s: %w (stored %q, expected %q)", s.path, ErrConflict, ver, expected)
	}
	s.removeStaleTemps()
	newVer := versionOf(data)
	if newVer == ver {
		return ver, nil // the same bytes are already durable
	}
	if err := writeAtomic(s.dir, s.path, data); err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	s.setReadable(newVer)
	s.log.V(1).Info("saved config", "groups", len(cfg.Groups), "version", string(newVer))
	return newVer, nil
}

// read returns the file's bytes and version; a missing file is (nil, "").
func (s *FileStore) read() ([]byte, Version, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read config: %w", err)
	}
	return data, versionOf(data), nil
}

func (s *FileStore) decode(data []byte) (Config, error) {
	cfg, err := DecodeConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("config file %s: %w", s.path, err)
	}
	return cfg, nil
}

// removeStaleTemps deletes temp files left by a crashed Save. It runs under
// the write lock, so no live Save owns them.
func (s *FileStore) removeStaleTemps() {
	matches, err := filepath.Glob(filepath.Join(s.dir, tempFilePrefix+"*"))
	if err != nil {
		return
	}
	for _, m := range matches {
		if err := os.Remove(m); err == nil {
			s.log.Info("removed temp file left by an interrupted save", "temp", m)
		}
	}
}

// writeAtomic replaces path with data: temp file in dir, fsync, rename,
// fsync of dir.
func writeAtomic(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, tempFilePrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

func versionOf(data []byte) Version {
	sum := sha256.Sum256(data)
	return Version(versionPrefix + hex.EncodeToString(sum[:]))
}
