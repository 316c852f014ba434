//go:build unix

package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/infrakit-manager/manager/sources"
)

// checkPresent tells a store that holds nothing yet from one that vanished.
// It is called with what a stat of global.config found:
//
//   - the file exists on the file system Dir was on at start: present;
//   - the file exists on another file system: present if Dir itself is
//     still on its first file system (global.config may be a symlink or a
//     bind mount), else ErrStoreGone;
//   - the file is missing: ErrStoreGone if Dir is missing or on another
//     file system (an unmounted, remounted or dropped NFS mount shows an
//     empty directory), or if this store has read or written a
//     global.config before; otherwise the store is empty (nil).
//
// The common case, a file on Dir's file system, costs nothing more than
// the stat already made; the others stat Dir.
func (s *Store) checkPresent(st stamp, exists bool) error {
	if exists && st.dev == s.dirDev {
		return nil
	}
	if err := s.checkDir(); err != nil || exists {
		return err
	}
	if s.seen.Load() {
		return fmt.Errorf("read config %s: %w: this manager read or wrote it before and it is missing now "+
			"(the store directory was emptied or swapped); nothing is changed until it is back: "+
			"restore it, or write {} to it to reset the store to no groups", s.path, sources.ErrStoreGone)
	}
	return nil
}

// checkDir fails with ErrStoreGone if Dir is missing, not a directory, or
// on another file system than when the store was made.
func (s *Store) checkDir() error {
	dev, err := dirDevice(s.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read config %s: %w: the store directory %s is missing; nothing is changed until it is back",
			s.path, sources.ErrStoreGone, s.dir)
	case err != nil:
		return fmt.Errorf("read config %s: %w", s.path, err)
	case dev != s.dirDev:
		return fmt.Errorf("read config %s: %w: the store directory %s is on another file system (device %d, was %d at start: "+
			"a mount was added or dropped); nothing is changed until it is back (restart the manager if the move is intended)",
			s.path, sources.ErrStoreGone, s.dir, dev, s.dirDev)
	}
	return nil
}

// dirDevice returns the device of the file system dir is on, and an error
// if dir is not a directory.
func dirDevice(dir string) (uint64, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("%s is not a directory", dir)
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, nil
	}
	return uint64(sys.Dev), nil //nolint:unconvert // Dev is not uint64 on every unix
}
