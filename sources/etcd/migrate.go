package etcd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Batch bounds one Save of an Import: at most Groups changed groups (etcd's
// --max-txn-ops minus 2) and about Bytes of keys and values (under etcd's
// --max-request-bytes, 1.5 MiB by default).
type Batch struct {
	Groups int
	Bytes  int
}

// DefaultBatch fits etcd's defaults: --max-txn-ops 128, --max-request-bytes
// 1.5 MiB (1 MiB of keys and values leaves room for the compares).
func DefaultBatch() Batch { return Batch{Groups: 126, Bytes: 1 << 20} }

// Import writes every group of cfg into s: added, or replaced where the
// stored entry differs as a JSON value (so `&` and `\u0026`, or other
// whitespace, are the same); groups only in s are kept. Each Save stays
// within b, so a large import is several commits; running it again writes
// nothing, and an import cut short is finished by running it again. It
// returns how many groups it wrote. Check cfg with ParseImport first.
func Import(ctx context.Context, s sources.Store, cfg sources.Config, b Batch) (int, error) {
	if b.Groups < 1 || b.Bytes < 1 {
		return 0, errors.New("import: batch bounds must be positive")
	}
	ids := make([]plugin.ID, 0, len(cfg.Groups))
	for id := range cfg.Groups {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	written := 0
	done := make(map[plugin.ID]bool, len(ids)) // stored as in cfg: compared or written by an earlier pass
	for {
		n, more := 0, false
		var settled []plugin.ID
		_, _, err := sources.Update(ctx, s, func(c *sources.Config) error {
			n, more, settled = 0, false, settled[:0]
			size := 0
			for _, id := range ids {
				if done[id] {
					continue
				}
				e := cfg.Groups[id]
				if old, ok := c.Groups[id]; ok && old.Plugin == e.Plugin && sameJSON(old.Properties, e.Properties) {
					settled = append(settled, id)
					continue
				}
				sz := len(id)*3 + len(e.Plugin) + len(e.Properties) + 64 // escaped key, value, framing
				if n == b.Groups || (n > 0 && size+sz > b.Bytes) {
					more = true
					break
				}
				c.Groups[id] = e
				n++
				size += sz
				settled = append(settled, id)
			}
			return nil
		})
		if err != nil {
			return written, err
		}
		for _, id := range settled {
			done[id] = true
		}
		written += n
		if !more {
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

// sameJSON compares two JSON documents as values: whitespace, key order
// and escapes (`\u0026` for `&`) do not matter; numbers compare by their
// text.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes()) {
		return true // the common case: whitespace only
	}
	va, ea := decodeValue(a)
	vb, eb := decodeValue(b)
	if ea != nil || eb != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func decodeValue(m json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(m)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
