package sourcestest

import (
	"context"
	"fmt"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

var _ sources.ChangeStager = (*MemStore)(nil)

// PrepareChanged is Prepare of the stored config with the groups named in
// changed as delta holds them (sources.ChangeStager). It is not counted as
// a Load.
func (m *MemStore) PrepareChanged(ctx context.Context, delta sources.Config, expected sources.Version, changed []plugin.ID) (sources.Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	cfg, err := sources.DecodeConfig(m.data)
	m.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mem store: %w", err)
	}
	if cfg.Groups == nil {
		cfg.Groups = map[plugin.ID]sources.Entry{}
	}
	if cfg.Destroying == nil {
		cfg.Destroying = map[plugin.ID]sources.Entry{}
	}
	for _, id := range changed {
		delete(cfg.Groups, id)
		delete(cfg.Destroying, id)
		if e, ok := delta.Groups[id]; ok {
			cfg.Groups[id] = e
		}
		if e, ok := delta.Destroying[id]; ok {
			cfg.Destroying[id] = e
		}
	}
	return m.Prepare(ctx, cfg, expected)
}
