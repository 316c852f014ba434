package file

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/infrakit-manager/manager/sources"
)

// readRegular reads a whole regular file of at most limit bytes. It opens
// the path without blocking (O_NONBLOCK: a FIFO would otherwise block the
// open until a writer comes), refuses anything that is not a regular file
// after following symlinks, and refuses a file larger than limit instead of
// reading part of it. A missing file returns an error wrapping
// fs.ErrNotExist.
func readRegular(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s, not a regular file: %w", path, fileKind(fi.Mode()), sources.ErrNotRegular)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s holds %d bytes, more than the limit of %d: %w", path, fi.Size(), limit, sources.ErrTooLarge)
	}
	// Read one byte past the limit: the file may have grown since Stat.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s holds more than the limit of %d bytes: %w", path, limit, sources.ErrTooLarge)
	}
	return data, nil
}

// fileKind names a non-regular file type for error texts.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	default:
		return "special file"
	}
}
