package etcd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// cached is one readable group key.
type cached struct {
	entry  sources.Entry
	modRev int64
}

// cache is the store's view of <prefix>/groups/: the readable groups, the
// unreadable ones (kept only to never overwrite them), the version key's
// ModRevision, and the highest revision seen (the Store's Version). Each
// key keeps its ModRevision, and an event applies only if it is newer, so a
// write-through of our own Save and the watch's copy of it agree in any
// order. A delete applied ahead of the watch (our own Save's) leaves a
// tombstone with its revision, so that the watch's late copy of an older
// put cannot bring the key back; tombstones go once the watch has passed
// them (advance), so they are bounded by the deletes in flight.
type cache struct {
	groups  map[plugin.ID]cached
	bad     map[plugin.ID]int64 // unreadable keys and their ModRevision
	foreign map[string]int64    // keys that name no group (a nested prefix's, a bad escape)
	gone    map[plugin.ID]int64 // deleted ahead of the watch: the delete's revision
	metaRev int64
	rev     int64
	seen    int64  // every write up to this revision is in the cache (listing, watch events)
	dest    *cache // pending destroys (destroying.go); nil: none seen
}

func newCache() *cache {
	return &cache{groups: map[plugin.ID]cached{}, bad: map[plugin.ID]int64{}, foreign: map[string]int64{}, gone: map[plugin.ID]int64{}}
}

// advance records that every write up to rev is in the cache, and drops
// the tombstones it has passed: no event at or below rev can come again.
func (c *cache) advance(rev int64) {
	if rev <= c.seen {
		return
	}
	c.seen = rev
	c.prune(rev)
}

// prune drops the tombstones at or below rev, here and in dest.
func (c *cache) prune(rev int64) {
	for id, r := range c.gone {
		if r <= rev {
			delete(c.gone, id)
		}
	}
	if c.dest != nil {
		c.dest.prune(rev)
	}
}

// keepGone carries over old's tombstones after the listing's revision at,
// removing what the listing read of those keys (an older put).
func (c *cache) keepGone(old *cache, at int64) {
	for id, r := range old.gone {
		if r > at {
			c.gone[id] = r
			delete(c.groups, id)
			delete(c.bad, id)
		}
	}
	if old.dest != nil && len(old.dest.gone) > 0 {
		c.destCache().keepGone(old.dest, at)
	}
}

// keyCount is how many keys under the groups prefix the cache knows of.
func (c *cache) keyCount() int {
	n := len(c.groups) + len(c.bad) + len(c.foreign)
	if c.metaRev > 0 {
		n++
	}
	if c.dest != nil {
		n += c.dest.keyCount()
	}
	return n
}

// version is rev as a sources.Version ("" when nothing was ever stored).
func (c *cache) version() sources.Version {
	if c.rev == 0 {
		return ""
	}
	return sources.Version(fmt.Sprint(c.rev))
}

// modRev is the ModRevision the cache holds for id (0: absent).
func (c *cache) modRev(id plugin.ID) int64 {
	if g, ok := c.groups[id]; ok {
		return g.modRev
	}
	return c.bad[id]
}

// snapshot deep-copies the readable groups.
func (c *cache) snapshot() sources.Config {
	out := sources.Config{Groups: make(map[plugin.ID]sources.Entry, len(c.groups))}
	for id, g := range c.groups {
		out.Groups[id] = sources.Entry{Plugin: g.entry.Plugin, Properties: bytes.Clone(g.entry.Properties)}
	}
	out.Destroying = c.snapshotDestroying()
	return out
}

// decodeEntry parses one stored value: a JSON object with a string Plugin
// and a JSON Properties, and nothing after it.
func decodeEntry(value []byte, maxBytes int) (sources.Entry, error) {
	if len(value) > maxBytes {
		return sources.Entry{}, fmt.Errorf("%w: %d bytes, more than %d", sources.ErrTooLarge, len(value), maxBytes)
	}
	var e sources.Entry
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return sources.Entry{}, fmt.Errorf("%w: %v", sources.ErrCorrupt, err)
	}
	if dec.More() {
		return sources.Entry{}, fmt.Errorf("%w: trailing data", sources.ErrCorrupt)
	}
	if e.Plugin == "" && len(e.Properties) == 0 {
		return sources.Entry{}, fmt.Errorf("%w: neither Plugin nor Properties", sources.ErrCorrupt)
	}
	return e, nil
}

// encodeEntry renders e as its stored value.
func encodeEntry(id plugin.ID, e sources.Entry, maxBytes int) ([]byte, error) {
	if len(e.Properties) > 0 && !json.Valid(e.Properties) {
		return nil, fmt.Errorf("save group %q: properties are not valid JSON", id)
	}
	// `&`, `<` and `>` stay as written (shell Init lines hold them): the
	// stored value reads as the spec did, and an export imports unchanged.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("save group %q: %w", id, err)
	}
	v := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(v) > maxBytes {
		return nil, fmt.Errorf("save group %q: %w: %d bytes, more than %d", id, sources.ErrTooLarge, len(v), maxBytes)
	}
	return v, nil
}

// applyFunc reports one unreadable key (log it); the cache skips it.
type applyFunc func(key string, id plugin.ID, err error)

// apply folds one key's put (value != nil or isPut) or delete at modRev
// into the cache, if newer than what the cache holds.
func (c *cache) apply(keys layout, key string, value []byte, isPut bool, modRev int64, maxBytes int, bad applyFunc) {
	c.rev = max(c.rev, modRev)
	if key == keys.versionKey() {
		switch {
		case modRev <= c.metaRev:
		case isPut:
			c.metaRev = modRev
		default:
			c.metaRev = 0 // deleted by hand: a missing key compares as revision 0
		}
		return
	}
	seg := strings.TrimPrefix(key, keys.groups())
	if rest, ok := strings.CutPrefix(key, keys.destroyingDir()); ok {
		c.destCache().applyID(key, rest, value, isPut, modRev, maxBytes, bad)
		return
	}
	c.applyID(key, seg, value, isPut, modRev, maxBytes, bad)
}

// applyID folds one entry key's put or delete in; seg is its escaped ID.
func (c *cache) applyID(key, seg string, value []byte, isPut bool, modRev int64, maxBytes int, bad applyFunc) {
	id, err := UnescapeID(seg)
	if err != nil {
		old, known := c.foreign[key]
		if known && modRev <= old {
			return
		}
		if !isPut {
			delete(c.foreign, key)
			return
		}
		c.foreign[key] = modRev
		// a key with '/' is another prefix nested under ours: not ours to judge
		if !known && !strings.Contains(seg, "/") {
			bad(key, "", fmt.Errorf("key is not an escaped group ID: %w", err))
		}
		return
	}
	if modRev <= c.modRev(id) || modRev <= c.gone[id] {
		return
	}
	delete(c.groups, id)
	delete(c.bad, id)
	delete(c.gone, id)
	if !isPut {
		if modRev > c.seen { // ahead of the watch: its copy of an older put may follow
			c.gone[id] = modRev
		}
		return
	}
	e, err := decodeEntry(value, maxBytes)
	if err != nil {
		c.bad[id] = modRev
		bad(key, id, err)
		return
	}
	c.groups[id] = cached{entry: e, modRev: modRev}
}

// applyEvent folds one watch event in.
func (c *cache) applyEvent(keys layout, ev *mvccpb.Event, maxBytes int, bad applyFunc) {
	isPut := ev.Type == mvccpb.PUT
	c.apply(keys, string(ev.Kv.Key), ev.Kv.Value, isPut, ev.Kv.ModRevision, maxBytes, bad)
}

// errUnreadable says why a Save refuses to touch a group.
var errUnreadable = errors.New("stored value does not decode; it is never overwritten (repair or delete the key)")
