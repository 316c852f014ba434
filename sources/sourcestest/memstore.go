package sourcestest

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/infrakit-manager/manager/sources"
)

// MemStore is an in-memory sources.Store. It keeps the encoded bytes, as a
// real store does, so Load returns what the file or swarm store would return
// for the same Save. Versions are "mem:1", "mem:2", ...; nothing stored is the
// empty Version. It is safe for concurrent use.
type MemStore struct {
	mu      sync.Mutex
	data    []byte
	version sources.Version
	seq     int
	saves   int
	loadErr error
	saveErr error
}

var _ sources.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore { return &MemStore{} }

// SetLoadError makes every Load fail with err until it is set to nil.
func (m *MemStore) SetLoadError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loadErr = err
}

// SetSaveError makes every Save fail with err, changing nothing, until it is
// set to nil.
func (m *MemStore) SetSaveError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saveErr = err
}

// Saves returns how many Saves succeeded.
func (m *MemStore) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// Load returns the stored config and its version.
func (m *MemStore) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	if err := ctx.Err(); err != nil {
		return sources.Config{}, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return sources.Config{}, "", m.loadErr
	}
	cfg, err := sources.DecodeConfig(m.data)
	if err != nil {
		return sources.Config{}, "", fmt.Errorf("mem store: %w", err)
	}
	return cfg, m.version, nil
}

// Save stores cfg if expected is the current version.
func (m *MemStore) Save(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Version, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	data, err := sources.EncodeConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("mem store: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return "", m.saveErr
	}
	if expected != m.version {
		return "", fmt.Errorf("mem store: %w (stored %q, expected %q)", sources.ErrConflict, m.version, expected)
	}
	m.seq++
	m.data = data
	m.version = sources.Version("mem:" + strconv.Itoa(m.seq))
	m.saves++
	return m.version, nil
}
