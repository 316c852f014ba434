package reconciler

import (
	"sync"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// desired is the one owner of desired state: the stored config as this
// replica last read or wrote it, raw (for the next save) and decoded (for
// planning and InspectGroups), pending destroys (Config.Destroying)
// included. It is fresh for a leadership term only if the read that
// installed it began in that term (or a save of that term wrote it): a read
// that began before this replica gained leadership may predate the previous
// leader's last write. Writers: the sync loop (reads) and the
// writer (saves), both under reconciler.storeMu. Entries are never changed
// in place, so a shallow copy of cfg.Groups is a safe base for a save.
type desired struct {
	encMu   sync.Mutex // held while encoding the InspectGroups answer (inspectEncoded); before mu
	mu      sync.RWMutex
	cfg     sources.Config
	version sources.Version
	specs   map[plugin.ID]plugin.Spec
	invalid map[plugin.ID]error       // stored entries that do not decode
	dest    map[plugin.ID]plugin.Spec // pending destroys; a zero Spec if it does not decode
	loaded  bool                      // cfg is what the store held at version
	term    uint64                    // the leadership term in which the read that installed cfg began
	err     error                     // why the store is unreadable, if it is
	sorted  []plugin.Spec             // InspectGroups answer for version; nil: rebuild
	encoded plugin.EncodedSpecs       // sorted, encoded; nil: encode again
}

func newDesired() *desired {
	return &desired{specs: map[plugin.ID]plugin.Spec{}, invalid: map[plugin.ID]error{}, dest: map[plugin.ID]plugin.Spec{}}
}

// install records a config read from the store by a read that began in
// term. An unchanged version is not decoded again.
func (d *desired) install(cfg sources.Config, v sources.Version, term uint64) {
	d.mu.RLock()
	same := d.loaded && v != "" && v == d.version
	d.mu.RUnlock()
	if same {
		d.mu.Lock()
		d.term, d.err = term, nil
		d.mu.Unlock()
		return
	}
	good, bad := specsOf(cfg)
	dest := destSpecs(cfg.Destroying)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cfg, d.version, d.specs, d.invalid, d.dest = cfg, v, good, bad, dest
	d.loaded, d.term, d.err, d.sorted, d.encoded = true, term, nil, nil, nil
}

// destSpecs decodes pending destroys; one that does not decode is kept
// with a zero Spec (it is destroyed by ID, never committed first).
func destSpecs(m map[plugin.ID]sources.Entry) map[plugin.ID]plugin.Spec {
	out := make(map[plugin.ID]plugin.Spec, len(m))
	for id, e := range m {
		out[id], _ = decodeEntry(id, e)
	}
	return out
}

// decodeEntry decodes one stored entry as specsOf does.
func decodeEntry(id plugin.ID, e sources.Entry) (plugin.Spec, error) {
	good, bad := specsOf(sources.Config{Groups: map[plugin.ID]sources.Entry{id: e}})
	return good[id], bad[id]
}

// apply records a config this replica saved, which differs from the
// loaded one only in ids: only those are decoded again.
func (d *desired) apply(cfg sources.Config, v sources.Version, ids []plugin.ID, term uint64) {
	d.mu.Lock()
	if !d.loaded {
		d.mu.Unlock()
		d.install(cfg, v, term)
		return
	}
	defer d.mu.Unlock()
	d.cfg = cfg
	d.savedLocked(v, ids, term)
}

// applyDelta records a save of the groups ids alone: delta holds their new
// entries (a missing one was removed). The cached config changes in place:
// nothing outside this cache holds its map (the writer reads it under
// storeMu, the store was handed only delta).
func (d *desired) applyDelta(delta sources.Config, v sources.Version, ids []plugin.ID, term uint64) {
	d.mu.Lock()
	if !d.loaded {
		d.mu.Unlock()
		return // nothing cached to update: the next sync reads the store
	}
	defer d.mu.Unlock()
	for _, id := range ids {
		d.cfg.Groups = setEntry(d.cfg.Groups, id, delta.Groups)
		d.cfg.Destroying = setEntry(d.cfg.Destroying, id, delta.Destroying)
	}
	d.savedLocked(v, ids, term)
}

// setEntry makes m[id] what from holds for id (absent: removed) and
// returns m, made if it was nil and an entry is set.
func setEntry(m map[plugin.ID]sources.Entry, id plugin.ID, from map[plugin.ID]sources.Entry) map[plugin.ID]sources.Entry {
	e, ok := from[id]
	if !ok {
		delete(m, id)
		return m
	}
	if m == nil {
		m = map[plugin.ID]sources.Entry{}
	}
	m[id] = e
	return m
}

// savedLocked decodes again the groups ids of d.cfg, which a save of this
// replica's just changed, and records the save's version and term. The
// decoded maps never leave the lock, so they change in place: a save costs
// the groups it changed, not the groups stored.
func (d *desired) savedLocked(v sources.Version, ids []plugin.ID, term uint64) {
	for _, id := range ids {
		delete(d.specs, id)
		delete(d.invalid, id)
		if e, ok := d.cfg.Groups[id]; ok {
			if spec, err := decodeEntry(id, e); err != nil {
				d.invalid[id] = err
			} else {
				d.specs[id] = spec
			}
		}
		delete(d.dest, id)
		if e, ok := d.cfg.Destroying[id]; ok {
			d.dest[id], _ = decodeEntry(id, e)
		}
	}
	d.version = v
	d.term, d.err, d.sorted, d.encoded = term, nil, nil, nil
}

// fail records that the store could not be read: desired state is unknown
// and nothing may be changed downstream on its account.
func (d *desired) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loaded, d.term, d.err = false, 0, err
}

// base returns the config to build the next save on, if one is loaded.
func (d *desired) base() (sources.Config, sources.Version, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.cfg, d.version, d.loaded
}

// desiredView is what planning needs of one group.
type desiredView struct {
	fresh      bool  // read or written in the term planning asked about
	err        error // the store is unreadable
	spec       plugin.Spec
	stored     bool
	invalid    error
	destroying bool        // a destroy is pending (stored in Destroying)
	destSpec   plugin.Spec // its last stored spec (zero if it does not decode)
}

// get is what planning in leadership term term needs of id (term 0: not
// leading, never fresh).
func (d *desired) get(id plugin.ID, term uint64) desiredView {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.specs[id]
	ds, dok := d.dest[id]
	return desiredView{fresh: d.loaded && term != 0 && d.term == term, err: d.err, spec: s, stored: ok,
		invalid: d.invalid[id], destroying: dok, destSpec: ds}
}

// has reports whether id is stored, decodable or not, or is a pending
// destroy.
func (d *desired) has(id plugin.ID) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.specs[id]
	if !ok {
		_, ok = d.invalid[id]
	}
	if !ok {
		_, ok = d.dest[id]
	}
	return ok
}

// keys returns every stored ID, decodable or not, and every pending destroy.
func (d *desired) keys() []plugin.ID {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]plugin.ID, 0, len(d.specs)+len(d.invalid)+len(d.dest))
	for id := range d.specs {
		out = append(out, id)
	}
	for id := range d.invalid {
		out = append(out, id)
	}
	for id := range d.dest {
		out = append(out, id)
	}
	return out
}

// inspect answers InspectGroups from memory if the cache holds version v.
func (d *desired) inspect(v sources.Version) ([]plugin.Spec, bool) {
	d.mu.RLock()
	if !d.loaded || d.version != v {
		d.mu.RUnlock()
		return nil, false
	}
	if d.sorted != nil || len(d.specs) == 0 {
		out := d.sorted
		d.mu.RUnlock()
		return out, true
	}
	d.mu.RUnlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.version != v {
		return nil, false
	}
	if d.sorted == nil {
		d.sorted = sortedSpecs(d.specs)
	}
	return d.sorted, true
}

// inspectEncoded is inspect, encoded once per version and kept.
func (d *desired) inspectEncoded(v sources.Version) (plugin.EncodedSpecs, bool, error) {
	if enc, ok := d.keptEncoding(v, true); ok {
		return enc, true, nil
	}
	// One encoder at a time: callers that arrive together (many clients
	// after a change) wait for the first one's encoding, not make their own.
	d.encMu.Lock()
	defer d.encMu.Unlock()
	if enc, ok := d.keptEncoding(v, false); ok {
		return enc, true, nil
	}
	specs, ok := d.inspect(v)
	if !ok {
		return nil, false, nil
	}
	enc, err := plugin.EncodeSpecs(specs)
	if err != nil {
		return nil, false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded && d.version == v && d.sorted != nil {
		d.encoded = enc
	}
	return enc, true, nil
}

// keptEncoding is the kept InspectGroups encoding of version v, if there
// is one; with orEmpty, an empty store's (nil) counts as kept.
func (d *desired) keptEncoding(v sources.Version, orEmpty bool) (plugin.EncodedSpecs, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.loaded && d.version == v && (d.encoded != nil || orEmpty && len(d.specs) == 0) {
		return d.encoded, true
	}
	return nil, false
}

// count is the number of stored groups.
func (d *desired) count() (int, sources.Version, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.specs) + len(d.invalid), d.version, d.err
}

// pending is the number of pending destroys.
func (d *desired) pending() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.dest)
}
