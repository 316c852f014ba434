package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// locationMaxBytes bounds the location file read.
const locationMaxBytes = 4 << 10

// FileLocation is the os mode's LocationStore: a small JSON file
// {"Holder":…,"URL":…} beside the leader file (<leader-file>.location). The
// original v0.1.0 manager reads only the leader file and global.config, so it
// ignores this file. Writes are atomic (a temp file, fsync, rename, fsync of
// the directory): a reader sees the old location or the new one, never half.
type FileLocation struct {
	path string
}

var _ LocationStore = (*FileLocation)(nil)

// NewFileLocation returns the location file for the leader file at
// leaderFile: <leaderFile>.location.
func NewFileLocation(leaderFile string) (*FileLocation, error) {
	if leaderFile == "" {
		return nil, errors.New("location file: the leader file path is empty")
	}
	return &FileLocation{path: leaderFile + ".location"}, nil
}

// Path returns the location file's path.
func (l *FileLocation) Path() string { return l.path }

// Publish writes loc atomically and durably.
func (l *FileLocation) Publish(ctx context.Context, loc Location) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(loc)
	if err != nil {
		return fmt.Errorf("publish leader location: %w", err)
	}
	dir := filepath.Dir(l.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(l.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("publish leader location: %w", err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // gone after a rename; a failure leaves nothing
	_, werr := f.Write(append(data, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, l.path)
	}
	if werr == nil {
		werr = syncDir(dir)
	}
	if werr != nil {
		return fmt.Errorf("publish leader location %s: %w", l.path, werr)
	}
	return nil
}

// Load reads the location file; a missing file is no location. A file that
// is not a regular file or not a location is an error.
func (l *FileLocation) Load(context.Context) (Location, error) {
	data, err := readRegular(l.path, locationMaxBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Location{}, nil
	}
	if err != nil {
		return Location{}, fmt.Errorf("read leader location: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Location{}, nil
	}
	var loc Location
	if err := json.Unmarshal(data, &loc); err != nil {
		return Location{}, fmt.Errorf("read leader location %s: %w: %w", l.path, ErrCorrupt, err)
	}
	return loc, nil
}

// Clear removes the file if it names holder. A successor that publishes
// between the read and the removal loses its file until its next publish
// (the leader re-publishes whenever the file does not name it).
func (l *FileLocation) Clear(ctx context.Context, holder string) error {
	loc, err := l.Load(ctx)
	if err != nil || loc.Holder != holder || loc.Holder == "" {
		return err
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear leader location: %w", err)
	}
	return syncDir(filepath.Dir(l.path))
}
