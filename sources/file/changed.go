//go:build unix

package file

import (
	"context"
	"maps"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

var _ sources.ChangeStager = (*Store)(nil)

// PrepareChanged is Prepare for the stored config with the groups named in
// changed as delta holds them (sources.ChangeStager): only those groups are
// looked at and encoded, the others keep their fragments, so preparing a
// save of a few groups does not walk the stored ones. The file written is
// the same as Prepare's of the whole config.
func (s *Store) PrepareChanged(ctx context.Context, delta sources.Config, expected sources.Version, changed []plugin.ID) (sources.Pending, error) {
	return s.prepare(ctx, expected, func(l *layout) (*layout, error) { return l.nextChanged(delta, changed) })
}

// nextChanged returns the layout of l's config with the groups named in
// changed replaced by delta's (removed where delta does not hold them).
func (l *layout) nextChanged(delta sources.Config, changed []plugin.ID) (*layout, error) {
	n := &layout{frags: maps.Clone(l.frags), order: l.order, sum: l.sum, text: l.text, dest: l.dest, tail: l.tail}
	if n.frags == nil {
		n.frags = map[plugin.ID]*fragment{}
	}
	var (
		fresh          map[plugin.ID]*fragment // replaced and added
		removed, added []plugin.ID
		destChanged    bool
	)
	seen := make(map[plugin.ID]bool, len(changed))
	for _, id := range changed {
		if seen[id] {
			continue
		}
		seen[id] = true
		e, stored := delta.Groups[id]
		old, had := l.frags[id]
		switch {
		case stored && had && old.holds(e):
		case stored:
			f, err := encodeFragment(id, e)
			if err != nil {
				return nil, err
			}
			if had {
				n.drop(id)
			} else {
				added = append(added, id)
			}
			if fresh == nil {
				fresh = map[plugin.ID]*fragment{}
			}
			fresh[id] = f
			n.frags[id] = f
			n.sum = n.sum.add(f.sum)
			n.text += int64(len(f.text))
		case had:
			n.drop(id)
			removed = append(removed, id)
		}
		d, pending := delta.Destroying[id]
		od, hadDest := l.dest[id]
		if pending != hadDest || (pending && (d.Plugin != od.Plugin || string(d.Properties) != string(od.Properties))) {
			destChanged = true
		}
	}
	if fresh == nil && removed == nil && !destChanged {
		return l, nil
	}
	if fresh != nil || removed != nil {
		n.order = nextOrder(l.order, fresh, removed, added)
	}
	if !destChanged {
		return n, nil
	}
	dest := maps.Clone(l.dest)
	if dest == nil {
		dest = map[plugin.ID]sources.Entry{}
	}
	for id := range seen {
		if e, ok := delta.Destroying[id]; ok {
			dest[id] = e
		} else {
			delete(dest, id)
		}
	}
	return n, n.setDestroying(dest)
}
