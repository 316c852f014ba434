package sources

import (
	"context"
	"errors"
)

// ErrTermUnknown: a Release named a term the handover record does not hold
// (a later holder reset or outgrew the record). Nothing was written; no
// replica waits on that term any more.
var ErrTermUnknown = errors.New("term not in the handover record")

// HandoverTerm is one leadership term in a handover record. Terms are
// numbered by the record (each claim takes the highest number plus one), and
// a term is identified by its number and its holder's instance, so a
// release of an earlier term is never taken for the release of a later one.
type HandoverTerm struct {
	Term     uint64 `json:"term"`
	Holder   string `json:"holder"`   // the replica's name (--name)
	Instance string `json:"instance"` // one process of that replica
	// Released: the holder has stopped acting for this term and its
	// downstream runs nothing (it freed its groups or found none).
	Released bool `json:"released,omitempty"`
	// Clear: when the holder released, every earlier term was known to be
	// done (released, or its lease had certainly run out).
	Clear bool `json:"clear,omitempty"`
}

// HandoverRecord is the shared record of the newest terms, oldest first.
type HandoverRecord struct {
	Terms []HandoverTerm `json:"terms"`
}

// Newest returns the newest term and true, or false if the record is empty.
func (r HandoverRecord) Newest() (HandoverTerm, bool) {
	if len(r.Terms) == 0 {
		return HandoverTerm{}, false
	}
	return r.Terms[len(r.Terms)-1], true
}

// Find returns the term numbered n held by instance, if the record holds it.
func (r HandoverRecord) Find(n uint64, instance string) (HandoverTerm, bool) {
	for _, t := range r.Terms {
		if t.Term == n && t.Instance == instance {
			return t, true
		}
	}
	return HandoverTerm{}, false
}

// Done reports whether every term before the term numbered n (which the
// record must hold) is done: released by its holder, and either cleared by
// it or preceded by done terms. An empty history before n is done only if n
// is the first term ever claimed (1): a record that lost its older terms
// proves nothing about them.
func (r HandoverRecord) Done(n uint64) bool {
	idx := -1
	for i, t := range r.Terms {
		if t.Term == n {
			idx = i
		}
	}
	if idx < 0 {
		return false
	}
	for i := idx - 1; i >= 0; i-- {
		t := r.Terms[i]
		if !t.Released {
			return false
		}
		if t.Clear || t.Term == 1 {
			return true
		}
	}
	return r.Terms[0].Term == 1 // the whole history is here
}

// Handover is where the replicas of one mode record their terms, so that a
// new leader can wait until the previous holder has let go instead of
// acting beside it. os mode keeps it in the store directory
// (FileHandover); a mode without one waits for the lease alone.
type Handover interface {
	// Claim records a new term for holder's instance, numbered one above
	// the newest term recorded, and returns the record after the claim
	// and the new term's number. If the record could not be read (corrupt)
	// it is replaced by one holding the new term alone, and Claim returns
	// that record, the number and an error wrapping ErrCorrupt: the
	// history is lost, so the caller must not count on any release.
	Claim(ctx context.Context, holder, instance string) (HandoverRecord, uint64, error)
	// Release marks the term numbered n of instance released (and clear
	// with clear). ErrTermUnknown if the record no longer holds it.
	Release(ctx context.Context, n uint64, instance string, clear bool) error
	// Load reads the record; a missing record is an empty one.
	Load(ctx context.Context) (HandoverRecord, error)
}
