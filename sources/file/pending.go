//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/infrakit-manager/manager/sources"
)

// Prepare encodes cfg (only the groups that changed since the file this
// store last saw) and writes it to a temp file in the store dir, fsynced,
// without making it visible. It fails early with ErrConflict if the stored
// version already differs from expected, with ErrCorrupt if the stored file
// cannot be decoded, and with ErrTooLarge (nothing written) if cfg encodes
// to more than MaxBytes. The caller must Commit or Abort the result.
func (s *Store) Prepare(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Pending, error) {
	return s.prepare(ctx, expected, func(l *layout) (*layout, error) { return l.next(cfg) })
}

// prepare is Prepare of the layout that next makes from the stored one.
func (s *Store) prepare(ctx context.Context, expected sources.Version, next func(*layout) (*layout, error)) (sources.Pending, error) {
	base, err := s.refresh(ctx)
	if err != nil {
		return nil, s.saveErr(err)
	}
	if base.version != expected {
		return nil, s.conflict(base.version, expected)
	}
	n, err := next(base.layout)
	if err != nil {
		return nil, fmt.Errorf("save config %s: %w", s.path, err)
	}
	p := &filePending{s: s, expected: expected, layout: n}
	if base.exists && n.version() == base.version {
		return p, nil // the same config is already durable: Commit only checks
	}
	if size := n.size(); size > s.maxBytes {
		return nil, fmt.Errorf("save config %s: %w: the config encodes to %d bytes, the limit is %d bytes (--max-config-bytes)",
			s.path, sources.ErrTooLarge, size, s.maxBytes)
	}
	if err := p.writeTemp(ctx); err != nil {
		p.Abort()
		return nil, fmt.Errorf("save config %s: %w", s.path, err)
	}
	return p, nil
}

// filePending is a prepared save: a synced temp file, or nothing to write.
type filePending struct {
	s        *Store
	expected sources.Version
	layout   *layout

	mu   sync.Mutex
	tmp  *os.File // nil: nothing to rename (no change, or committed, or aborted)
	done bool
}

var _ sources.Pending = (*filePending)(nil)

func (p *filePending) writeTemp(ctx context.Context) (err error) {
	// Dir is never created here: a Dir that vanished is ErrStoreGone
	// (refresh, before this), not a new empty store.
	// Not under the write lock: a temp file counts as stale only when
	// nobody holds its lock and nobody touched it for a while.
	p.s.removeStaleTemps()
	tmp, err := os.CreateTemp(p.s.dir, tempFilePrefix+"*")
	if err != nil {
		return err
	}
	p.tmp = tmp
	// Held until the temp file is renamed or removed: a save that cleans up
	// after crashed writers skips temp files someone still holds.
	if err := syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("lock temp file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	// One contiguous write: measured faster than writev of the fragments
	// (5.6 MB: 1.3-3.9 ms against 5.4-10 ms), and the buffer is reused.
	buf := p.s.takeBuffer(p.layout.size())
	buf = p.layout.appendTo(buf)
	_, err = tmp.Write(buf)
	p.s.returnBuffer(buf)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return tmp.Sync()
}

// Commit renames the temp file over the config, under the store's lock,
// if the stored version still equals the expected one; otherwise it
// returns ErrConflict and changes nothing. Commit runs once: a second call
// is an error.
func (p *filePending) Commit(ctx context.Context) (sources.Version, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return "", fmt.Errorf("save config %s: this prepared save was already committed or aborted", p.s.path)
	}
	p.done = true
	defer p.removeTemp()
	s := p.s
	if p.tmp == nil { // nothing to write: check that nothing changed
		st, err := s.refresh(ctx)
		if err != nil {
			return "", s.saveErr(err)
		}
		if st.version != p.expected {
			return "", s.conflict(st.version, p.expected)
		}
		return st.version, nil
	}
	unlock, err := lockFile(ctx, filepath.Join(s.dir, lockFileName))
	if err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	defer unlock()
	cur, err := s.refresh(ctx)
	if err != nil {
		return "", s.saveErr(err)
	}
	if cur.version != p.expected {
		return "", s.conflict(cur.version, p.expected)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	// The version replaced is freed after this save, not inside the
	// rename (replaced.go).
	defer release(openReplaced(s.path))
	if err := os.Rename(p.tmp.Name(), s.path); err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	// Our inode's stamp, not the path's: a writer that replaced the file
	// since the rename must not be taken for us.
	fi, statErr := p.tmp.Stat()
	_ = p.tmp.Close()
	p.tmp = nil
	next := &fileState{exists: statErr == nil, layout: p.layout, version: p.layout.version()}
	if statErr == nil {
		next.stamp = stampOf(fi)
	}
	s.seen.Store(true)
	s.mu.Lock()
	s.cur = next
	if statErr != nil {
		s.cur = nil // unknown: the next look reads the file
	}
	s.mu.Unlock()
	if err := syncDir(s.dir); err != nil {
		return "", fmt.Errorf("save config %s: %w", s.path, err)
	}
	s.log.V(1).Info("saved config", "groups", len(p.layout.order), "version", string(next.version))
	return next.version, nil
}

// Abort removes the temp file. It is safe to call at any time, more than
// once, and after Commit (then it does nothing).
func (p *filePending) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	p.removeTemp()
}

func (p *filePending) removeTemp() {
	if p.tmp == nil {
		return
	}
	name := p.tmp.Name()
	_ = os.Remove(name) // before Close, which releases the flock
	_ = p.tmp.Close()
	p.tmp = nil
}

// unchangedFor is how long a temp file must have been left alone before a
// save treats it as left over by a crashed writer (and it must be unlocked).
const unchangedFor = 10 * time.Second

func (s *Store) conflict(stored, expected sources.Version) error {
	return fmt.Errorf("save config %s: %w (stored %q, expected %q)", s.path, sources.ErrConflict, stored, expected)
}

// saveErr adds the save's context to an error from reading the config,
// which already names the file.
func (s *Store) saveErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("save config %s: %w", s.path, err)
	}
	return fmt.Errorf("save config: %w", err)
}

// removeStaleTemps deletes temp files left by crashed saves: those nobody
// holds locked and nobody changed for a while.
func (s *Store) removeStaleTemps() {
	matches, err := filepath.Glob(filepath.Join(s.dir, tempFilePrefix+"*"))
	if err != nil {
		return
	}
	for _, m := range matches {
		if s.removeIfStale(m) {
			s.log.Info("removed temp file left by an interrupted save", "temp", m)
		}
	}
}

func (s *Store) removeIfStale(path string) bool {
	// O_NONBLOCK and O_NOFOLLOW: whatever sits there, opening it must not hang.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_NOCTTY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || time.Since(fi.ModTime()) < unchangedFor {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false // a live Prepare holds it
	}
	return os.Remove(path) == nil
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
