package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

const (
	// DefaultLeaderPollInterval is how often FileLeadership re-reads the
	// leader file when no file system event arrives.
	DefaultLeaderPollInterval = 5 * time.Second
	// leaderFileMaxBytes bounds how much of the leader file is read.
	leaderFileMaxBytes = 64 << 10
	// leaderEventSettle coalesces the burst of events one write makes
	// (truncate, write, chmod) before the file is read. It is a fixed real
	// time span, far below the poll interval, and keeps an in-place rewrite
	// of the same name from reading the empty, truncated file.
	leaderEventSettle = 2 * time.Millisecond
)

// FileLeadershipOptions configures a FileLeadership.
type FileLeadershipOptions struct {
	// Path is the shared leader file. Required.
	Path string
	// Name is this manager's --name; it is leader iff the file holds it.
	// Required.
	Name string
	// PollInterval is how often the file is re-read when no event arrives,
	// e.g. on shared file systems. Each wait is jittered by +/-10%.
	// Defaults to 5s.
	PollInterval time.Duration
	// Clock drives the poll. Defaults to the real clock.
	Clock clock.WithTicker
	// Log receives diagnostics. Defaults to a logger that discards.
	Log logr.Logger
}

// DefaultFileLeadershipOptions returns the defaults for the optional fields.
func DefaultFileLeadershipOptions() FileLeadershipOptions {
	return FileLeadershipOptions{PollInterval: DefaultLeaderPollInterval, Clock: clock.RealClock{}}
}

func (o *FileLeadershipOptions) defaultAndValidate() error {
	def := DefaultFileLeadershipOptions()
	if o.PollInterval == 0 {
		o.PollInterval = def.PollInterval
	}
	if o.Clock == nil {
		o.Clock = def.Clock
	}
	switch {
	case o.Path == "":
		return errors.New("sources: FileLeadershipOptions.Path must not be empty")
	case o.Name == "":
		return errors.New("sources: FileLeadershipOptions.Name must not be empty")
	case o.PollInterval < 0:
		return fmt.Errorf("sources: FileLeadershipOptions.PollInterval must be positive, got %s", o.PollInterval)
	}
	return nil
}

// FileLeadership reports leadership from a shared leader file, as the
// original's os mode did: this replica leads iff the file, trimmed of
// spaces, tabs, CR and LF, equals its name. Unlike the original it also
// accepts CRLF endings, reports the first status at once, and reacts to file
// system events within milliseconds, polling only as a fallback.
type FileLeadership struct {
	path     string
	name     string
	interval time.Duration
	clock    clock.WithTicker
	log      logr.Logger
}

var _ Leadership = (*FileLeadership)(nil)

// NewFileLeadership defaults and validates opts.
func NewFileLeadership(opts FileLeadershipOptions) (*FileLeadership, error) {
	if err := opts.defaultAndValidate(); err != nil {
		return nil, err
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("sources: FileLeadershipOptions.Path: %w", err)
	}
	return &FileLeadership{
		path:     path,
		name:     opts.Name,
		interval: opts.PollInterval,
		clock:    opts.Clock,
		log:      opts.Log.WithValues("path", path),
	}, nil
}

// ParseLeaderFile reports whether content names name as the leader: the
// content trimmed of spaces, tabs, CR and LF at both ends equals name, and
// name is not empty.
func ParseLeaderFile(content []byte, name string) bool {
	return name != "" && string(bytes.Trim(content, " \t\r\n")) == name
}

// Check reads the leader file now. A missing, unreadable or directory path
// is (false, error naming the path).
func (l *FileLeadership) Check(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	f, err := os.Open(l.path)
	if err != nil {
		return false, fmt.Errorf("leader file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, leaderFileMaxBytes))
	if err != nil {
		return false, fmt.Errorf("leader file: %w", err)
	}
	return ParseLeaderFile(data, l.name), nil
}

// jittered returns the poll interval +/-10%.
func (l *FileLeadership) jittered() time.Duration {
	spread := l.interval / 5
	if spread <= 0 {
		return l.interval
	}
	return l.interval - spread/2 + rand.N(spread+1)
}
