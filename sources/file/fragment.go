package file

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// The stored format is json.MarshalIndent(GlobalSpec, "  ", "  "). Indenting
// is lexical, so the file is a fixed frame around one fragment per group,
// each fragment being the group's own MarshalIndent at the depth it sits at.
// A save assembles the file from fragments kept from earlier saves and
// encodes only the groups that changed; the result is byte-identical to
// EncodeConfig (checked by the tests and the fuzzer).
const (
	// entryIndent is the prefix of a group's lines: the file's prefix plus
	// two levels of indent (the root object and Groups).
	entryIndent = "      "
	frameOpen   = "{\n    \"Groups\": {"
	frameEmpty  = "{\n    \"Groups\": {}\n  }"
	// groupsClose ends the Groups object, rootClose the file; pending
	// destroys (the tail) sit between them.
	groupsClose = "\n    }"
	rootClose   = "\n  }"
	emptyOpen   = "{\n    \"Groups\": {}"
	// versionPrefix marks a Store Version: the digest of the config.
	versionPrefix = "cfg:"
)

// fragment is one group as stored: the entry (its Properties owned by the
// store and never changed) and its encoded lines, `      "id": {…}`.
type fragment struct {
	id    plugin.ID
	entry sources.Entry
	text  []byte
	sum   digest
}

// digest is a 256-bit sum. A config's digest is the sum modulo 2^256 of
// its fragments' SHA-256, so it changes in O(changed groups) and depends
// only on the config, not on who wrote the file or how it was indented.
type digest [4]uint64

func digestOf(text []byte) digest {
	h := sha256.Sum256(text)
	var d digest
	for i := range d {
		for _, b := range h[i*8 : i*8+8] {
			d[i] = d[i]<<8 | uint64(b)
		}
	}
	return d
}

func (d digest) add(o digest) digest {
	var c uint64
	for i := len(d) - 1; i >= 0; i-- {
		d[i], c = bits.Add64(d[i], o[i], c)
	}
	return d
}

func (d digest) sub(o digest) digest {
	var b uint64
	for i := len(d) - 1; i >= 0; i-- {
		d[i], b = bits.Sub64(d[i], o[i], b)
	}
	return d
}

func (d digest) version() sources.Version {
	var raw [32]byte
	for i, w := range d {
		for j := range 8 {
			raw[i*8+j] = byte(w >> (56 - 8*j))
		}
	}
	return sources.Version(versionPrefix + hex.EncodeToString(raw[:]))
}

// encodeFragment encodes one group exactly as EncodeConfig would place it.
// The entry's Properties are copied, so the caller may reuse its bytes.
func encodeFragment(id plugin.ID, e sources.Entry) (*fragment, error) {
	return encodeChecked(id, e, true)
}

// encodeDecoded is encodeFragment for an entry that DecodeConfig made: its
// Properties are one valid JSON value already, and are kept, not copied.
func encodeDecoded(id plugin.ID, e sources.Entry) (*fragment, error) {
	f, err := encodeChecked(id, e, false)
	if err == nil {
		f.entry = e
	}
	return f, err
}

func encodeChecked(id plugin.ID, e sources.Entry, check bool) (*fragment, error) {
	// Checked alone: inside the entry, `1,"x":2` would pass for valid.
	if check && len(e.Properties) > 0 && !json.Valid(e.Properties) {
		return nil, fmt.Errorf("encode config: group %q: properties are not valid JSON", id)
	}
	key, err := json.Marshal(string(id))
	if err != nil {
		return nil, fmt.Errorf("encode config: group %q: %w", id, err)
	}
	body, err := indentEntry(e)
	if err != nil {
		return nil, fmt.Errorf("encode config: group %q: %w", id, err)
	}
	text := make([]byte, 0, len(entryIndent)+len(key)+2+len(body))
	text = append(append(append(append(text, entryIndent...), key...), ": "...), body...)
	owned := sources.Entry{Plugin: e.Plugin}
	if e.Properties != nil {
		owned.Properties = bytes.Clone(e.Properties)
	}
	return &fragment{id: id, entry: owned, text: text, sum: digestOf(text)}, nil
}

// indentEntry is json.MarshalIndent(e, entryIndent, "  ") in one pass
// where it can be: Marshal would only compact the properties (json.Indent
// skips the same blanks) unless they hold what it escapes (<, >, &, U+2028,
// U+2029), which takes the long way.
func indentEntry(e sources.Entry) ([]byte, error) {
	props := bytes.Trim(e.Properties, " \t\r\n")
	if e.Properties == nil {
		props = []byte("null")
	}
	if bytes.IndexByte(props, '<') >= 0 || bytes.IndexByte(props, '>') >= 0 ||
		bytes.IndexByte(props, '&') >= 0 || bytes.Contains(props, []byte("\u2028")) ||
		bytes.Contains(props, []byte("\u2029")) || len(props) == 0 {
		return json.MarshalIndent(e, entryIndent, "  ")
	}
	plugin, err := json.Marshal(e.Plugin)
	if err != nil {
		return nil, err
	}
	compact := make([]byte, 0, len(`{"Plugin":,"Properties":}`)+len(plugin)+len(props))
	compact = append(append(append(append(append(compact, `{"Plugin":`...), plugin...), `,"Properties":`...), props...), '}')
	var out bytes.Buffer
	out.Grow(2 * len(compact))
	if err := json.Indent(&out, compact, entryIndent, "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// holds reports whether f already encodes e: the same plugin and the same
// properties, found by identity first (the bytes a Load handed out and the
// caller passed back) and by content otherwise.
func (f *fragment) holds(e sources.Entry) bool {
	if f.entry.Plugin != e.Plugin || len(f.entry.Properties) != len(e.Properties) ||
		(f.entry.Properties == nil) != (e.Properties == nil) {
		return false
	}
	a, b := f.entry.Properties, e.Properties
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return bytes.Equal(a, b)
}

// layout is an encoded config: its fragments by group and in key order.
// A layout is never changed once made, so layouts are shared between
// goroutines.
type layout struct {
	frags map[plugin.ID]*fragment
	order []*fragment // sorted by id: the file's order, walked without hashing
	sum   digest      // the fragments' and the tail's
	text  int64       // bytes of all fragments' text
	// dest are the pending destroys (Config.Destroying), owned and never
	// changed; tail is their encoding, `,\n    "Destroying": {…}`, or nil.
	// There are few, so the tail is encoded whole when they change.
	dest map[plugin.ID]sources.Entry
	tail []byte
}

func newLayout(frags map[plugin.ID]*fragment) *layout {
	l := &layout{frags: frags, order: make([]*fragment, 0, len(frags))}
	for _, f := range frags {
		l.order = append(l.order, f)
		l.sum = l.sum.add(f.sum)
		l.text += int64(len(f.text))
	}
	slices.SortFunc(l.order, byID)
	return l
}

func byID(a, b *fragment) int { return strings.Compare(string(a.id), string(b.id)) }

// size is the number of bytes of the assembled file.
func (l *layout) size() int64 {
	if len(l.order) == 0 {
		return int64(len(emptyOpen) + len(l.tail) + len(rootClose))
	}
	// "\n" before each fragment, "," between two
	return int64(len(frameOpen)+len(groupsClose)+len(l.tail)+len(rootClose)+2*len(l.order)-1) + l.text
}

func (l *layout) version() sources.Version { return l.sum.version() }

// appendTo appends the assembled file to dst.
func (l *layout) appendTo(dst []byte) []byte {
	if len(l.order) == 0 {
		dst = append(dst, emptyOpen...)
		return append(append(dst, l.tail...), rootClose...)
	}
	dst = append(dst, frameOpen...)
	for i, f := range l.order {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '\n')
		dst = append(dst, f.text...)
	}
	dst = append(dst, groupsClose...)
	return append(append(dst, l.tail...), rootClose...)
}

// bytes assembles the file in memory.
func (l *layout) bytes() []byte { return l.appendTo(make([]byte, 0, l.size())) }

// matches reports whether data is exactly the assembled file, without
// assembling it.
func (l *layout) matches(data []byte) bool {
	if int64(len(data)) != l.size() {
		return false
	}
	closing := groupsClose + string(l.tail) + rootClose
	if len(l.order) == 0 {
		return string(data) == emptyOpen+string(l.tail)+rootClose
	}
	rest, ok := bytes.CutPrefix(data, []byte(frameOpen))
	for i, f := range l.order {
		if ok && i > 0 {
			rest, ok = bytes.CutPrefix(rest, []byte{','})
		}
		if ok {
			rest, ok = bytes.CutPrefix(rest, []byte{'\n'})
		}
		if ok {
			rest, ok = bytes.CutPrefix(rest, f.text)
		}
		if !ok {
			return false
		}
	}
	return string(rest) == closing
}

// next returns the layout of cfg, reusing l's fragments for unchanged
// groups and encoding the others; l itself when cfg is what l holds.
func (l *layout) next(cfg sources.Config) (*layout, error) {
	n, err := l.nextGroups(cfg)
	if err != nil || sameEntries(n.dest, cfg.Destroying) {
		return n, err
	}
	if n == l {
		n = &layout{frags: l.frags, order: l.order, sum: l.sum, text: l.text, dest: l.dest, tail: l.tail}
	}
	return n, n.setDestroying(cfg.Destroying)
}

// setDestroying makes dest the pending destroys of a layout under
// construction, encoding its tail.
func (l *layout) setDestroying(dest map[plugin.ID]sources.Entry) error {
	if len(l.tail) > 0 {
		l.sum = l.sum.sub(digestOf(l.tail))
	}
	l.dest, l.tail = nil, nil
	if len(dest) == 0 {
		return nil
	}
	owned := make(map[plugin.ID]sources.Entry, len(dest))
	for id, e := range dest {
		if len(e.Properties) > 0 && !json.Valid(e.Properties) {
			return fmt.Errorf("encode config: group %q: properties are not valid JSON", id)
		}
		owned[id] = sources.Entry{Plugin: e.Plugin, Properties: bytes.Clone(e.Properties)}
	}
	body, err := json.MarshalIndent(owned, "    ", "  ")
	if err != nil {
		return fmt.Errorf("encode config: pending destroys: %w", err)
	}
	l.dest = owned
	l.tail = append([]byte(",\n    \"Destroying\": "), body...)
	l.sum = l.sum.add(digestOf(l.tail))
	return nil
}

// sameEntries reports whether two entry maps hold the same entries.
func sameEntries(a, b map[plugin.ID]sources.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for id, e := range a {
		o, ok := b[id]
		if !ok || o.Plugin != e.Plugin || !bytes.Equal(o.Properties, e.Properties) {
			return false
		}
	}
	return true
}

// nextGroups is next for the groups alone; the result keeps l's tail.
func (l *layout) nextGroups(cfg sources.Config) (*layout, error) {
	var changed map[plugin.ID]*fragment
	kept, replaced := 0, 0
	for id, e := range cfg.Groups {
		old, ok := l.frags[id]
		if ok && old.holds(e) {
			kept++
			continue
		}
		f, err := encodeFragment(id, e)
		if err != nil {
			return nil, err
		}
		if changed == nil {
			changed = map[plugin.ID]*fragment{}
		}
		changed[id] = f
		if ok {
			replaced++
		}
	}
	if changed == nil && kept == len(l.frags) {
		return l, nil
	}
	n := &layout{frags: maps.Clone(l.frags), sum: l.sum, text: l.text, dest: l.dest, tail: l.tail}
	if n.frags == nil {
		n.frags = map[plugin.ID]*fragment{}
	}
	var removed, added []plugin.ID
	if kept+replaced < len(l.frags) {
		for id := range l.frags {
			if _, ok := cfg.Groups[id]; !ok {
				removed = append(removed, id)
			}
		}
	}
	for _, id := range removed {
		n.drop(id)
	}
	for id, f := range changed {
		if _, ok := n.frags[id]; ok {
			n.drop(id)
		} else {
			added = append(added, id)
		}
		n.frags[id] = f
		n.sum = n.sum.add(f.sum)
		n.text += int64(len(f.text))
	}
	n.order = nextOrder(l.order, changed, removed, added)
	return n, nil
}

// drop removes id's fragment from a layout under construction.
func (l *layout) drop(id plugin.ID) {
	f := l.frags[id]
	l.sum = l.sum.sub(f.sum)
	l.text -= int64(len(f.text))
	delete(l.frags, id)
}

// nextOrder returns order (sorted, never changed) with the changed
// fragments in place of the old ones, without removed and with added.
func nextOrder(order []*fragment, changed map[plugin.ID]*fragment, removed, added []plugin.ID) []*fragment {
	out := make([]*fragment, 0, len(order)-len(removed)+len(added))
	if len(removed) == 0 && len(added) == 0 { // the usual save: a few groups changed
		out = append(out, order...)
		for id, f := range changed {
			i, _ := slices.BinarySearchFunc(out, id, compareID)
			out[i] = f
		}
		return out
	}
	gone := make(map[plugin.ID]struct{}, len(removed))
	for _, id := range removed {
		gone[id] = struct{}{}
	}
	for _, f := range order {
		if _, ok := gone[f.id]; ok {
			continue
		}
		if nf, ok := changed[f.id]; ok {
			f = nf
		}
		out = append(out, f)
	}
	if len(added) > 64 {
		for _, id := range added {
			out = append(out, changed[id])
		}
		slices.SortFunc(out, byID)
		return out
	}
	for _, id := range added {
		i, _ := slices.BinarySearchFunc(out, id, compareID)
		out = slices.Insert(out, i, changed[id])
	}
	return out
}

func compareID(f *fragment, id plugin.ID) int { return strings.Compare(string(f.id), string(id)) }
