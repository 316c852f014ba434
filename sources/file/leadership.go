package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/sources"
)

const (
	// DefaultLeaseDuration is os mode's --lease-duration: how long an
	// unreadable leader file keeps the current role. Another manager can be
	// named in the file at any moment, so it is short; it rides out a blip
	// (one EMFILE, one slow read) and bounds the window in which a frozen
	// or cut-off leader could act on a stale read.
	DefaultLeaseDuration = 2 * time.Second
	// DefaultLeaderPollInterval is how often Leadership.Watch re-adds
	// its directory watch and pokes when no file system event arrives.
	DefaultLeaderPollInterval = time.Second
	// leaderFileMaxBytes bounds how much of the leader file is read.
	leaderFileMaxBytes = 64 << 10
	// leaderEventSettle coalesces the burst of events one write makes
	// (truncate, write, chmod) before the file is read. It is a fixed real
	// time span, far below the poll interval, and keeps an in-place rewrite
	// of the same name from reading the empty, truncated file.
	leaderEventSettle = 2 * time.Millisecond
)

// Leadership reports leadership from a shared leader file, as the
// original's os mode did: this replica leads iff the file, trimmed of
// spaces, tabs, CR and LF, equals its name. Unlike the original it also
// accepts CRLF endings, pokes on file system events within milliseconds,
// and answers unknown (an error) for a missing, empty or unreadable file, or
// a path that is not a regular file, instead of "not leader".
type Leadership struct {
	path     string
	name     string
	interval time.Duration
	clock    clock.WithTicker
	log      logr.Logger
}

var _ sources.Leadership = (*Leadership)(nil)

// NewLeadership validates opts.
func NewLeadership(opts LeadershipOptions) (*Leadership, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("leader file: %w", err)
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("leader file: %w", field.Errorf("Path", "%w", err))
	}
	return &Leadership{
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
	return name != "" && leaderOf(content) == name
}

// leaderOf is the name a leader file holds: its content trimmed of spaces,
// tabs, CR and LF at both ends.
func leaderOf(content []byte) string { return string(bytes.Trim(content, " \t\r\n")) }

// Check reads the leader file now. The file is opened without blocking and
// only if it is a regular file (a FIFO, device or directory is an error,
// never a hang); a file larger than 64 KiB is an error, not a partial read.
// A missing, unreadable or empty file is unknown (an error naming the path),
// never "not leader": a mistyped --leader-file or a write caught half way
// must not make a leader free its groups. Holder is the trimmed content.
func (l *Leadership) Check(ctx context.Context) (sources.Status, error) {
	if err := ctx.Err(); err != nil {
		return sources.Status{}, err
	}
	data, err := readRegular(l.path, leaderFileMaxBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return sources.Status{}, fmt.Errorf("leader file (--leader-file) %s does not exist: write the leading manager's --name into it, or correct the path: %w", l.path, err)
	}
	if err != nil {
		return sources.Status{}, fmt.Errorf("leader file (--leader-file): %w", err)
	}
	holder := leaderOf(data)
	if holder == "" {
		return sources.Status{}, fmt.Errorf("leader file (--leader-file) %s is empty: %w", l.path, sources.ErrUnknownLeader)
	}
	return sources.Status{Leader: holder == l.name, Holder: holder}, nil
}

// jittered returns the poll interval +/-10%.
func (l *Leadership) jittered() time.Duration {
	spread := l.interval / 5
	if spread <= 0 {
		return l.interval
	}
	return l.interval - spread/2 + rand.N(spread+1)
}
