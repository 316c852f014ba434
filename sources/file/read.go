//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/infrakit-manager/manager/sources"
)

// readChunk is how much of the config file is read between two looks at ctx.
const readChunk = 1 << 20

// stamp identifies one state of the config file without reading it: the
// file (device, inode), its size and its modification and change times in
// nanoseconds. A save replaces the file by rename, so every save makes a new
// inode; an edit in place changes the size or the times. Limit: an edit in
// place that keeps the size, within the file system's timestamp granularity
// of our own write, is not seen until the file changes again.
type stamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
}

func stampOf(fi fs.FileInfo) stamp {
	st := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino = uint64(sys.Dev), sys.Ino //nolint:unconvert // Dev is not uint64 on every unix
		st.ctime = ctimeOf(sys)
	}
	return st
}

// statConfig returns the stamp of the config file; ok is false if there is
// no file.
func (s *Store) statConfig() (stamp, bool, error) {
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return stamp{}, false, nil
	case err != nil:
		return stamp{}, false, fmt.Errorf("read config: %w", s.pathErr(err))
	}
	return stampOf(fi), true, nil
}

// readConfig reads the whole config file safely: it opens only a regular
// file (with O_NONBLOCK, so a FIFO or a device at the path is an error, not
// a hang), refuses a file over the size limit instead of reading part of it,
// honours ctx between chunks, and reads again if the file changed while it
// was read. A missing file is ok == false.
func (s *Store) readConfig(ctx context.Context) (data []byte, st stamp, ok bool, err error) {
	for attempt := 0; ; attempt++ {
		data, st, ok, changed, err := s.readOnce(ctx)
		if err != nil || !changed || attempt == 2 {
			if err == nil && changed {
				err = fmt.Errorf("read config %s: the file kept changing while it was read", s.path)
			}
			return data, st, ok, err
		}
	}
}

func (s *Store) readOnce(ctx context.Context) (data []byte, st stamp, ok, changed bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, stamp{}, false, false, err
	}
	f, err := os.OpenFile(s.path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, stamp{}, false, false, nil
	}
	if err != nil {
		return nil, stamp{}, false, false, fmt.Errorf("read config: %w", s.pathErr(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, stamp{}, false, false, fmt.Errorf("read config: %w", s.pathErr(err))
	}
	if err := s.checkRegular(fi); err != nil {
		return nil, stamp{}, false, false, err
	}
	// O_NONBLOCK has no effect on a regular file's reads, so it is kept.
	st = stampOf(fi)
	if st.size > s.maxBytes {
		return nil, stamp{}, false, false, s.tooLarge(st.size)
	}
	data = make([]byte, 0, st.size+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, stamp{}, false, false, fmt.Errorf("read config %s: %w", s.path, err)
		}
		n, err := f.Read(data[len(data):min(cap(data), len(data)+readChunk)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) || (n == 0 && err == nil) {
			break
		}
		if err != nil {
			return nil, stamp{}, false, false, fmt.Errorf("read config: %w", s.pathErr(err))
		}
		if len(data) == cap(data) { // grew while being read
			if int64(len(data)) > s.maxBytes {
				return nil, stamp{}, false, false, s.tooLarge(int64(len(data)))
			}
			data = append(data, 0)[:len(data)]
		}
	}
	after, err := f.Stat()
	if err != nil {
		return nil, stamp{}, false, false, fmt.Errorf("read config: %w", s.pathErr(err))
	}
	changed = stampOf(after) != st || int64(len(data)) != st.size
	return data, st, true, changed, nil
}

// checkRegular refuses anything at the config path that is not a regular
// file (after following symlinks).
func (s *Store) checkRegular(fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("read config %s: is a directory, not a file: remove it or point --store-dir elsewhere", s.path)
	default:
		return fmt.Errorf("read config %s: is a %s, not a regular file: remove it or point --store-dir elsewhere: %w", s.path, fileKind(m), sources.ErrNotRegular)
	}
}

func (s *Store) tooLarge(size int64) error {
	return fmt.Errorf("read config %s: %w: the file is %d bytes, the limit is %d bytes (--max-config-bytes)",
		s.path, sources.ErrTooLarge, size, s.maxBytes)
}

// pathErr makes sure err names the config file.
func (s *Store) pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", s.path, err)
}
