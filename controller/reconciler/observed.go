package reconciler

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/infrakit-manager/manager/plugin"
)

// observed is what the downstream runs, as the reconciler last saw it, and
// the last-applied record of each group (like kubectl's): the spec this
// replica committed and what the plugin then reported running. Only the
// reconciler writes it: the sync loop installs InspectGroups answers, the
// workers record their own commits, frees and destroys.
//
// Every write carries a sequence number, so an InspectGroups answer that
// was asked for before a worker's change cannot undo that change here.
type observed struct {
	mu      sync.Mutex
	seq     uint64
	asking  int  // InspectGroups calls asked (begin) and not yet answered
	known   bool // one InspectGroups answer has been installed
	err     error
	m       map[plugin.ID]obsEntry
	applied map[plugin.ID]lastApplied
	// gone holds the groups this replica destroyed in its current term
	// (at most maxDestroyed, the oldest dropped first): a commit that
	// missed its deadline may still land after the destroy, and the group
	// found running again is destroyed again, never freed. A commit of the
	// group sent by this replica (whatever its outcome), or the end of the
	// term, forgets it.
	gone map[plugin.ID]uint64
}

// maxDestroyed bounds observed.gone.
const maxDestroyed = 4096

type obsEntry struct {
	spec    plugin.Spec
	present bool
	seq     uint64
	// sameAs is the stored properties spec was last found to mean (a
	// plugin that re-encodes what it runs): while both are byte-for-byte
	// unchanged, the semantic comparison is not made again.
	sameAs json.RawMessage
}

// lastApplied is the record of this replica's last successful commit of a
// group: the stored spec it committed and, from the first InspectGroups
// asked for after that commit, what the plugin reported running. It lives
// in memory only: after a restart a normalising plugin costs one commit.
type lastApplied struct {
	stored   json.RawMessage
	reported json.RawMessage
	known    bool   // reported is set
	seq      uint64 // when the commit returned, on observed's sequence
	details  string // the plugin's answer to that commit
}

func newObserved() *observed {
	return &observed{m: map[plugin.ID]obsEntry{}, applied: map[plugin.ID]lastApplied{}, gone: map[plugin.ID]uint64{}}
}

// begin returns the sequence number of an InspectGroups about to be asked.
func (o *observed) begin() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	o.asking++
	return o.seq
}

// install records an InspectGroups answer asked for at seq start. An
// entry whose properties are byte-for-byte the ones already held is kept
// as it is (with what was learnt comparing it), so an unchanged group costs
// one comparison and no allocation. Entries the answer does not name, and
// last-applied records of groups no longer running, are forgotten.
func (o *observed) install(start uint64, specs []plugin.Spec) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asking--
	for _, s := range specs {
		old, ok := o.m[s.ID]
		if old.seq > start {
			continue // changed by a worker since the question was asked
		}
		if ok && old.present && bytes.Equal(old.spec.Properties, s.Properties) {
			old.seq = start
			o.m[s.ID] = old
		} else {
			o.m[s.ID] = obsEntry{spec: s, present: true, seq: start}
		}
		if la, ok := o.applied[s.ID]; ok && !la.known && la.seq < start {
			la.reported, la.known = s.Properties, true
			o.applied[s.ID] = la
		}
	}
	// Named by the answer: seq == start; changed by a worker since: later.
	for id, e := range o.m {
		if e.seq < start {
			delete(o.m, id)
		}
	}
	for id := range o.applied {
		if _, ok := o.m[id]; !ok {
			delete(o.applied, id)
		}
	}
	o.known, o.err = true, nil
}

// fail records that InspectGroups failed; the last answer stays in use.
func (o *observed) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asking--
	o.err = err
}

// committed records a successful commit of spec and the plugin's answer.
func (o *observed) committed(spec plugin.Spec, details string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	o.m[spec.ID] = obsEntry{spec: spec, present: true, seq: o.seq}
	o.applied[spec.ID] = lastApplied{stored: spec.Properties, seq: o.seq, details: details}
	delete(o.gone, spec.ID)
}

// committing records that a commit of id is about to be sent: whatever
// comes of it (an answer lost to a deadline may hide a commit that landed),
// this replica no longer knows the group to be gone, so a pending destroy
// is sent downstream again rather than taken as carried out.
func (o *observed) committing(id plugin.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.gone, id)
}

// destroyed records a successful destroy: the group is gone, and if it is
// found running again (a late commit) it is destroyed again.
func (o *observed) destroyed(id plugin.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	o.m[id] = obsEntry{seq: o.seq}
	delete(o.applied, id)
	if _, ok := o.gone[id]; !ok && len(o.gone) >= maxDestroyed {
		oldest, at := plugin.ID(""), uint64(0)
		for g, s := range o.gone {
			if at == 0 || s < at {
				oldest, at = g, s
			}
		}
		delete(o.gone, oldest)
	}
	o.gone[id] = o.seq
}

// forgetDestroyed drops every record of a destroy (the term ended).
func (o *observed) forgetDestroyed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.gone)
}

// mark returns the current sequence number: a commit recorded later
// happened after this call.
func (o *observed) mark() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seq
}

// removed records a successful free or destroy (or a plugin that answered
// it does not run the group). While an InspectGroups is in flight the
// removal is kept as a tombstone (its answer may still list the group),
// which that answer's install forgets; otherwise nothing is kept.
func (o *observed) removed(id plugin.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	if o.asking > 0 {
		o.m[id] = obsEntry{seq: o.seq}
	} else {
		delete(o.m, id)
	}
	delete(o.applied, id)
}

// learnSame notes that the running properties of id, as read at seq, mean
// the stored properties stored: later comparisons of the same bytes are
// answered without decoding either side.
func (o *observed) learnSame(id plugin.ID, seq uint64, stored json.RawMessage) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e, ok := o.m[id]; ok && e.present && e.seq == seq {
		e.sameAs = stored
		o.m[id] = e
	}
}

// has reports whether the downstream runs id, as last seen.
func (o *observed) has(id plugin.ID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[id].present
}

// obsView is what planning needs of one group.
type obsView struct {
	known   bool
	present bool
	seq     uint64 // of the entry, for learnSame
	spec    plugin.Spec
	sameAs  json.RawMessage
	applied lastApplied
	hasLA   bool
	gone    bool // destroyed by this replica in its current term
}

func (o *observed) get(id plugin.ID) obsView {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := o.m[id]
	la, ok := o.applied[id]
	_, gone := o.gone[id]
	return obsView{known: o.known, present: e.present, seq: e.seq, spec: e.spec, sameAs: e.sameAs, applied: la, hasLA: ok, gone: gone}
}

// keys returns the IDs the downstream runs.
func (o *observed) keys() []plugin.ID {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]plugin.ID, 0, len(o.m))
	for id, e := range o.m {
		if e.present {
			out = append(out, id)
		}
	}
	return out
}

// reasonAsStored is the reason of a group found running its stored spec.
const reasonAsStored = "running as stored"

// inSync reports whether the plugin runs the stored spec: it runs exactly
// that spec, or it runs what it reported after this replica's last
// successful commit of that same spec (a plugin that normalises specs).
func (v obsView) inSync(stored plugin.Spec) (bool, string) {
	if bytes.Equal(stored.Properties, v.spec.Properties) ||
		(v.sameAs != nil && bytes.Equal(v.sameAs, stored.Properties)) ||
		sameProperties(stored.Properties, v.spec.Properties) {
		return true, reasonAsStored
	}
	if v.hasLA && v.applied.known && sameProperties(v.applied.stored, stored.Properties) &&
		sameProperties(v.applied.reported, v.spec.Properties) {
		return true, "running as the plugin reported after the last commit of this spec"
	}
	return false, ""
}
