package sourcestest

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/infrakit-manager/manager/sources"
)

// MemStore is an in-memory sources.Store and sources.Stager. It keeps the encoded bytes, as a
// real store does, so Load returns what the file or swarm store would return
// for the same Save. Versions are "mem:1", "mem:2", ...; nothing stored is the
// empty Version. It is safe for concurrent use.
type MemStore struct {
	mu      sync.Mutex
	data    []byte
	version sources.Version
	seq     int
	saves   int
	loads   int
	loadErr error
	saveErr error
}

var (
	_ sources.Store  = (*MemStore)(nil)
	_ sources.Stager = (*MemStore)(nil)
)

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

// Loads returns how many Loads were asked, failed ones included: a test
// that waits for resyncs to do nothing counts them.
func (m *MemStore) Loads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads
}

// Load returns the stored config and its version.
func (m *MemStore) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	if err := ctx.Err(); err != nil {
		return sources.Config{}, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
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

// Prepare encodes cfg; the returned Pending stores it as Save would.
func (m *MemStore) Prepare(ctx context.Context, cfg sources.Config, expected sources.Version) (sources.Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := sources.EncodeConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("mem store: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if expected != m.version {
		return nil, fmt.Errorf("mem store: %w (stored %q, expected %q)", sources.ErrConflict, m.version, expected)
	}
	return &memPending{m: m, data: data, expected: expected}, nil
}

// memPending is a prepared MemStore save.
type memPending struct {
	m        *MemStore
	data     []byte
	expected sources.Version

	mu   sync.Mutex
	done bool
}

var _ sources.Pending = (*memPending)(nil)

// Commit stores the prepared config if the version is still the expected one.
func (p *memPending) Commit(ctx context.Context) (sources.Version, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return "", fmt.Errorf("mem store: prepared save already committed or aborted")
	}
	p.done = true
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return "", m.saveErr
	}
	if p.expected != m.version {
		return "", fmt.Errorf("mem store: %w (stored %q, expected %q)", sources.ErrConflict, m.version, p.expected)
	}
	m.seq++
	m.data = p.data
	m.version = sources.Version("mem:" + strconv.Itoa(m.seq))
	m.saves++
	return m.version, nil
}

// Abort discards the prepared save.
func (p *memPending) Abort() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
}
