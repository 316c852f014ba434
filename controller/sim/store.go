package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/infrakit-manager/manager/internal/invariant"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// The store faults.
const (
	storeOK         = ""
	storeUnreadable = "unreadable" // Load fails: the store is unknown
	storeSaveFails  = "save-fails" // Save fails, nothing written
	storeReplyLost  = "reply-lost" // Save is written, its answer lost (a crash after fsync)
)

var errStoreDown = errors.New("sim: store unreachable")

// store is the managers' shared store: a sourcestest.MemStore behind a
// fault layer.
type store struct {
	mem *sourcestest.MemStore

	mu    sync.Mutex
	fault string
}

var _ sources.Store = (*store)(nil)

func newStore() *store { return &store{mem: sourcestest.NewMemStore()} }

func (s *store) setFault(f string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

func (s *store) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault
}

func (s *store) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	if s.current() == storeUnreadable {
		return sources.Config{}, "", errStoreDown
	}
	return s.mem.Load(ctx)
}

func (s *store) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	switch s.current() {
	case storeUnreadable, storeSaveFails:
		return "", errStoreDown
	case storeReplyLost:
		if _, err := s.mem.Save(ctx, cfg, expected); err != nil {
			return "", err
		}
		return "", fmt.Errorf("sim: store answer lost after the write: %w", context.DeadlineExceeded)
	}
	return s.mem.Save(ctx, cfg, expected)
}

// stored returns the stored groups and their version marks.
func (s *store) stored() (map[string]string, error) {
	cfg, _, err := s.mem.Load(context.Background())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for id, e := range cfg.Groups {
		// An entry holds the whole spec, {"ID":…,"Properties":…}.
		var spec struct{ Properties json.RawMessage }
		if err := json.Unmarshal(e.Properties, &spec); err != nil {
			return nil, fmt.Errorf("stored group %s: %w", id, err)
		}
		out[string(id)] = invariant.VersionOf(spec.Properties)
	}
	return out, nil
}
