package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Import writes every group of cfg into s: added, or replaced where the
// stored entry differs; groups only in s are kept. Each Save changes at most
// batch groups (etcd's --max-txn-ops bounds one Txn), so a large import is
// several commits; running it again writes nothing, and an import cut short
// is finished by running it again. It returns how many groups it wrote.
func Import(ctx context.Context, s sources.Store, cfg sources.Config, batch int) (int, error) {
	if batch < 1 {
		return 0, errors.New("import: batch must be positive")
	}
	ids := make([]plugin.ID, 0, len(cfg.Groups))
	for id := range cfg.Groups {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	written := 0
	// from is where the next batch starts: the groups before it are
	// written or equal already, and are not compared again (which made a
	// large import quadratic).
	from := 0
	for {
		n, next := 0, from
		_, _, err := sources.Update(ctx, s, func(c *sources.Config) error {
			n, next = 0, from
			for _, id := range ids[from:] {
				if n == batch {
					break
				}
				next++
				e := cfg.Groups[id]
				if old, ok := c.Groups[id]; ok && old.Plugin == e.Plugin && sameJSON(old.Properties, e.Properties) {
					continue
				}
				c.Groups[id] = e
				n++
			}
			return nil
		})
		if err != nil {
			return written, err
		}
		written += n
		from = next
		if n < batch {
			return written, nil
		}
	}
}

// Export renders what s holds in the original's global.config format.
func Export(ctx context.Context, s sources.Store) ([]byte, error) {
	cfg, _, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	return sources.EncodeConfig(cfg)
}

// sameJSON compares two JSON documents ignoring insignificant whitespace.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
