package file

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// StoreOptions configures a Store. Start from DefaultStoreOptions.
type StoreOptions struct {
	// Dir is the store directory. Required. It must exist unless Create is
	// set: a missing Dir is an error wrapping sources.ErrStoreMissing.
	Dir string
	// Create makes NewStore create a missing Dir (mode 0700).
	Create bool
	// MaxBytes bounds the config file: a save that would write more fails
	// with sources.ErrTooLarge and writes nothing, and a larger file is
	// refused rather than read in part. Must be > 0. Defaults to 64 MiB.
	MaxBytes int64
	// Log receives diagnostics. The zero Logger discards.
	Log logr.Logger
}

// DefaultStoreOptions returns the defaults (Dir has none).
func DefaultStoreOptions() StoreOptions {
	return StoreOptions{MaxBytes: plugin.DefaultMaxStoreBytes}
}

// Validate checks the fields without changing them or touching the file
// system; NewStore also checks that Dir is a directory. Errors name fields.
func (o StoreOptions) Validate() error {
	var errs []error
	if strings.TrimSpace(o.Dir) == "" {
		errs = append(errs, field.Errorf("Dir", "must not be empty"))
	}
	if o.MaxBytes <= 0 {
		errs = append(errs, field.Errorf("MaxBytes", "must be > 0, got %d", o.MaxBytes))
	}
	return errors.Join(errs...)
}

// checkDir reports a Dir that is missing (unless Create is set) or not a
// directory.
func (o StoreOptions) checkDir() error {
	fi, err := os.Stat(o.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && o.Create:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return field.Errorf("Dir", "%s: %w: create it (mkdir), or set Create to have it created", o.Dir, sources.ErrStoreMissing)
	case err != nil:
		return field.Errorf("Dir", "%w", err)
	case !fi.IsDir():
		return field.Errorf("Dir", "%s is not a directory", o.Dir)
	}
	return nil
}

// LeadershipOptions configures a Leadership. Start from
// DefaultLeadershipOptions.
type LeadershipOptions struct {
	// Path is the shared leader file. Required.
	Path string
	// Name is this manager's name; it is leader iff the file holds it.
	// Required.
	Name string
	// PollInterval is how often Watch re-adds its directory watch and pokes
	// when no event arrives (shared file systems). Each wait is jittered by
	// +/-10%. Must be > 0. Defaults to 1s. The controller re-checks on its
	// own schedule too (controller.Options.RenewInterval).
	PollInterval time.Duration
	// Clock drives the poll. Required. Defaults to the real clock.
	Clock clock.WithTicker
	// Log receives diagnostics. The zero Logger discards.
	Log logr.Logger
}

// DefaultLeadershipOptions returns the defaults (Path and Name have none).
func DefaultLeadershipOptions() LeadershipOptions {
	return LeadershipOptions{PollInterval: DefaultLeaderPollInterval, Clock: clock.RealClock{}}
}

// Validate checks the fields without changing them. Errors name fields.
func (o LeadershipOptions) Validate() error {
	var errs []error
	if o.Path == "" {
		errs = append(errs, field.Errorf("Path", "must not be empty"))
	}
	if o.Name == "" {
		errs = append(errs, field.Errorf("Name", "must not be empty"))
	}
	if o.PollInterval <= 0 {
		errs = append(errs, field.Errorf("PollInterval", "must be > 0, got %s", o.PollInterval))
	}
	if o.Clock == nil {
		errs = append(errs, field.Errorf("Clock", "must not be nil"))
	}
	return errors.Join(errs...)
}
