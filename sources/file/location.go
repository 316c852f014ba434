package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/infrakit-manager/manager/sources"
)

// locationMaxBytes bounds the location file read.
const locationMaxBytes = 4 << 10

// Location is the os mode's LocationStore: a small JSON file
// {"Holder":…,"URL":…} beside the leader file (<leader-file>.location). The
// original v0.1.0 manager reads only the leader file and global.config, so it
// ignores this file. Writes are atomic (a temp file, fsync, rename, fsync of
// the directory): a reader sees the old location or the new one, never half.
type Location struct {
	path string
}

var _ sources.LocationStore = (*Location)(nil)

// NewLocation returns the location file for the leader file at
// leaderFile: <leaderFile>.location.
func NewLocation(leaderFile string) (*Location, error) {
	if leaderFile == "" {
		return nil, errors.New("location file: the leader file path is empty")
	}
	return &Location{path: leaderFile + ".location"}, nil
}

// Path returns the location file's path.
func (l *Location) Path() string { return l.path }

// Publish writes loc atomically and durably.
func (l *Location) Publish(ctx context.Context, loc sources.Location) error {
	if err := replaceJSON(ctx, l.path, loc); err != nil {
		return fmt.Errorf("publish leader location %s: %w", l.path, err)
	}
	return nil
}

// Load reads the location file; a missing file is no location. A file that
// is not a regular file or not a location is an error.
func (l *Location) Load(context.Context) (sources.Location, error) {
	data, err := readRegular(l.path, locationMaxBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return sources.Location{}, nil
	}
	if err != nil {
		return sources.Location{}, fmt.Errorf("read leader location: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return sources.Location{}, nil
	}
	var loc sources.Location
	if err := json.Unmarshal(data, &loc); err != nil {
		return sources.Location{}, fmt.Errorf("read leader location %s: %w: %w", l.path, sources.ErrCorrupt, err)
	}
	return loc, nil
}

// Clear removes the file if it names holder. A successor that publishes
// between the read and the removal loses its file until its next publish
// (the leader re-publishes whenever the file does not name it).
func (l *Location) Clear(ctx context.Context, holder string) error {
	loc, err := l.Load(ctx)
	if err != nil || loc.Holder != holder || loc.Holder == "" {
		return err
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear leader location: %w", err)
	}
	return syncDir(filepath.Dir(l.path))
}
