package file

import (
	"sync"

	"github.com/infrakit-manager/manager/sources"
)

// Encoder renders configs exactly as EncodeConfig does, but keeps each
// group's encoding from one call to the next and encodes again only the
// groups that changed, so encoding a config that differs from the last one
// in a few groups costs those groups plus one copy of the bytes. Stores
// that write the whole config on every save (the swarm label) use one.
// The zero Encoder is ready to use and safe for concurrent use.
type Encoder struct {
	mu   sync.Mutex
	last *layout
}

// Encode returns EncodeConfig(cfg).
func (e *Encoder) Encode(cfg sources.Config) ([]byte, error) {
	e.mu.Lock()
	base := e.last
	e.mu.Unlock()
	if base == nil {
		base = newLayout(nil)
	}
	l, err := base.next(cfg)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.last = l
	e.mu.Unlock()
	return l.bytes(), nil
}
