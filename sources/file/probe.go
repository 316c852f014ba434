//go:build unix

package file

import (
	"context"
	"fmt"
)

// CheckWrite finds out whether a save would succeed now, without changing
// what is stored: it writes the stored config again exactly as a save does
// (a temp file in the store dir, fsynced, renamed over global.config under
// the store's lock if the version is unchanged, the dir fsynced). The
// content and the Version stay the same; other readers see a new file with
// the same bytes. It fails as a save fails: ErrStoreGone, ErrCorrupt, no
// space (ENOSPC), a read-only file system (EROFS), a global.config that
// cannot be replaced (EBUSY: a bind mount). With nothing stored yet it
// writes and removes a temp file only. ErrConflict means someone saved in
// between: the store could be written.
func (s *Store) CheckWrite(ctx context.Context) error {
	base, err := s.refresh(ctx)
	if err != nil {
		return s.saveErr(err)
	}
	p := &filePending{s: s, expected: base.version, layout: base.layout}
	defer p.Abort()
	if err := p.writeTemp(ctx); err != nil {
		return fmt.Errorf("save config %s: %w", s.path, err)
	}
	if !base.exists {
		return nil // a temp file could be written; Abort removes it
	}
	_, err = p.Commit(ctx)
	return err
}
