package etcd

import (
	"bytes"
	"sort"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Pending destroys (sources.Config.Destroying) live in their own key space,
// <prefix>/groups/~destroying/<escaped ID>, one key per group, the value
// being the group's last stored entry. An escaped ID never holds '~' or
// '/', so no group key can be taken for one of these, and keeping them
// under <prefix>/groups/ puts them in the same listing, watch, version key
// and fenced Txn as the groups: a destroy moves a group from one space to
// the other in one write.

// destroyingDir is the key space of pending destroys.
func (l layout) destroyingDir() string { return l.groups() + "~destroying/" }

// keyOf is the key a change writes.
func (l layout) keyOf(ch change) string {
	if ch.dest {
		return l.destroyingDir() + EscapeID(ch.id)
	}
	return l.group(ch.id)
}

// destCache returns the cache of pending destroys, making it if needed.
func (c *cache) destCache() *cache {
	if c.dest == nil {
		c.dest = newCache()
	}
	return c.dest
}

// snapshotDestroying deep-copies the readable pending destroys (nil: none).
func (c *cache) snapshotDestroying() map[plugin.ID]sources.Entry {
	if c.dest == nil || len(c.dest.groups) == 0 {
		return nil
	}
	out := make(map[plugin.ID]sources.Entry, len(c.dest.groups))
	for id, g := range c.dest.groups {
		out[id] = sources.Entry{Plugin: g.entry.Plugin, Properties: bytes.Clone(g.entry.Properties)}
	}
	return out
}

// keepDestroying carries over the pending destroys old holds from writes
// after the listing's revision at (as list does for the groups).
func (c *cache) keepDestroying(old *cache, at int64) {
	if old.dest == nil {
		return
	}
	for id, g := range old.dest.groups {
		if g.modRev > at {
			c.destCache().groups[id] = g
		}
	}
}

// diffDestroying lists the changes that store want as the pending
// destroys: every one when ids is nil, else those named in ids only.
// s.mu is held.
func (s *Store) diffDestroying(want map[plugin.ID]sources.Entry, ids []plugin.ID) ([]change, error) {
	have := s.c.destCache()
	var out []change
	look := func(id plugin.ID) error {
		if e, ok := want[id]; ok {
			ch, _, err := s.compareIn(have, id, e)
			if err != nil {
				return err
			}
			if ch != nil {
				ch.dest = true
				out = append(out, *ch)
			}
			return nil
		}
		if old, ok := have.groups[id]; ok {
			out = append(out, change{dest: true, id: id, modRev: old.modRev})
		}
		return nil
	}
	if ids != nil {
		seen := make(map[plugin.ID]bool, len(ids))
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				if err := look(id); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	for id := range want {
		if err := look(id); err != nil {
			return nil, err
		}
	}
	for id := range have.groups {
		if _, ok := want[id]; !ok {
			if err := look(id); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// sortChanges orders a Txn's changes: groups by ID, then pending destroys.
func sortChanges(out []change) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].dest != out[j].dest {
			return !out[i].dest
		}
		return out[i].id < out[j].id
	})
}
