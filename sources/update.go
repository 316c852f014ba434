package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

const (
	// updateAttempts bounds Update's load-mutate-save rounds.
	updateAttempts = 10
	// updateBackoff is the largest pause before retry n is n*updateBackoff,
	// randomised so that contending writers spread out.
	updateBackoff = 2 * time.Millisecond
)

// Update loads the config, applies mutate to a copy and saves it against the
// loaded version. On ErrConflict it starts again from a fresh load, up to 10
// attempts, then returns the last ErrConflict error. An error from mutate
// aborts the update and is returned unchanged; nothing is saved. mutate
// always receives a non-nil Groups map and may run more than once, so it must
// only depend on the config it is given.
func Update(ctx context.Context, s Store, mutate func(*Config) error) (Config, Version, error) {
	var lastErr error
	for attempt := 1; attempt <= updateAttempts; attempt++ {
		cfg, ver, err := s.Load(ctx)
		if err != nil {
			return Config{}, "", fmt.Errorf("update config: %w", err)
		}
		next := cfg.Clone()
		if next.Groups == nil {
			next.Groups = map[plugin.ID]Entry{}
		}
		if err := mutate(&next); err != nil {
			return Config{}, "", err
		}
		newVer, err := s.Save(ctx, next, ver)
		if err == nil {
			return next, newVer, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Config{}, "", fmt.Errorf("update config: %w", err)
		}
		lastErr = err
		if attempt < updateAttempts {
			if err := pause(ctx, rand.N(time.Duration(attempt)*updateBackoff)+1); err != nil {
				return Config{}, "", fmt.Errorf("update config: %w", err)
			}
		}
	}
	return Config{}, "", fmt.Errorf("update config: gave up after %d attempts: %w", updateAttempts, lastErr)
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Clone returns a deep copy: the Groups and Destroying maps and every
// Properties message are copied, so changing the copy never changes c. A
// nil map stays nil.
func (c Config) Clone() Config {
	return Config{Groups: cloneEntries(c.Groups), Destroying: cloneEntries(c.Destroying)}
}

func cloneEntries(m map[plugin.ID]Entry) map[plugin.ID]Entry {
	if m == nil {
		return nil
	}
	out := make(map[plugin.ID]Entry, len(m))
	for id, e := range m {
		out[id] = Entry{Plugin: e.Plugin, Properties: bytes.Clone(e.Properties)}
	}
	return out
}
