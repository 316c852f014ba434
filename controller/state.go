package controller

import (
	"context"
	"hash/fnv"
	"maps"
	"sync"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// state is what the reconciler knows: the leader flag, the desired specs
// (from the store, valid only while loaded for the current leadership term)
// and the observed specs (from the downstream's last InspectGroups, kept up
// to date by our own successful calls).
type state struct {
	mu sync.RWMutex

	leader    bool
	term      uint64             // incremented on every leadership change
	leaderCtx context.Context    // cancelled when this term's leadership ends
	cancel    context.CancelFunc // cancels leaderCtx

	desired       map[plugin.ID]plugin.Spec
	invalid       map[plugin.ID]error // stored entries that do not decode
	desiredLoaded bool                // desired reflects the store for this term
	version       sources.Version

	observed       map[plugin.ID]plugin.Spec
	observedLoaded bool
}

// snapshot is a consistent read of state for planning one key.
type snapshot struct {
	leader         bool
	term           uint64
	leaderCtx      context.Context
	desiredLoaded  bool
	desired        plugin.Spec
	isDesired      bool
	invalid        error
	observedLoaded bool
	observed       plugin.Spec
	isObserved     bool
}

func newState() *state {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no term yet: a nil leaderCtx would be a trap
	return &state{
		leaderCtx: ctx,
		cancel:    cancel,
		desired:   map[plugin.ID]plugin.Spec{},
		invalid:   map[plugin.ID]error{},
		observed:  map[plugin.ID]plugin.Spec{},
	}
}

func (s *state) snapshot(id plugin.ID) snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, isD := s.desired[id]
	o, isO := s.observed[id]
	return snapshot{
		leader: s.leader, term: s.term, leaderCtx: s.leaderCtx,
		desiredLoaded: s.desiredLoaded, desired: d, isDesired: isD, invalid: s.invalid[id],
		observedLoaded: s.observedLoaded, observed: o, isObserved: isO,
	}
}

// setLeader records a leadership change. It reports whether anything
// changed. Losing leadership cancels the term's context at once; gaining it
// invalidates the desired cache, which must be re-read for the new term.
func (s *state) setLeader(base context.Context, leader bool) (changed bool, term uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leader == leader && s.term > 0 {
		return false, s.term
	}
	s.term++
	s.cancel()
	s.leader = leader
	s.desiredLoaded = false
	if leader {
		s.leaderCtx, s.cancel = context.WithCancel(base)
	}
	return true, s.term
}

func (s *state) isLeader() (bool, context.Context) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.leader, s.leaderCtx
}

// setDesired installs a freshly read config if the term has not changed
// since the read began.
func (s *state) setDesired(term uint64, cfg sources.Config, v sources.Version) bool {
	s.mu.RLock()
	same := s.term == term && s.desiredLoaded && s.version == v && v != ""
	s.mu.RUnlock()
	if same {
		return true // nothing changed: skip decoding every entry again
	}
	good, bad := specsOf(cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return false
	}
	s.desired, s.invalid, s.version, s.desiredLoaded = good, bad, v, true
	return true
}

// updateDesired installs a config that differs from the cached one only in
// the groups ids, decoding just those. Without a loaded cache for this term
// it falls back to decoding everything.
func (s *state) updateDesired(term uint64, cfg sources.Config, v sources.Version, ids []plugin.ID) {
	s.mu.Lock()
	if s.term != term {
		s.mu.Unlock()
		return
	}
	if !s.desiredLoaded {
		s.mu.Unlock()
		s.setDesired(term, cfg, v)
		return
	}
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.desired, id)
		delete(s.invalid, id)
		e, ok := cfg.Groups[id]
		if !ok {
			continue
		}
		good, bad := specsOf(sources.Config{Groups: map[plugin.ID]sources.Entry{id: e}})
		maps.Copy(s.desired, good)
		maps.Copy(s.invalid, bad)
	}
	s.version = v
}

func (s *state) clearDesired() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.desired, s.invalid, s.desiredLoaded = map[plugin.ID]plugin.Spec{}, map[plugin.ID]error{}, false
}

func (s *state) setObserved(specs []plugin.Spec) {
	m := make(map[plugin.ID]plugin.Spec, len(specs))
	for _, sp := range specs {
		m[sp.ID] = sp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observed, s.observedLoaded = m, true
}

func (s *state) observe(spec plugin.Spec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observed[spec.ID] = spec
}

func (s *state) unobserve(id plugin.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.observed, id)
}

// keys returns every ID that is desired or observed.
func (s *state) keys() []plugin.ID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]plugin.ID, 0, len(s.desired)+len(s.observed)+len(s.invalid))
	seen := make(map[plugin.ID]bool, cap(out))
	add := func(id plugin.ID) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if s.leader && s.desiredLoaded {
		for id := range s.desired {
			add(id)
		}
		for id := range s.invalid {
			add(id)
		}
	}
	for id := range s.observed {
		add(id)
	}
	return out
}

// keyLocks serialise the front's writes and the reconciler's actions on one
// group, so a destroy can never be overtaken by a commit of the same group.
// Striped: bounded memory whatever the number of groups.
type keyLocks [256]sync.Mutex

func (k *keyLocks) lock(id plugin.ID) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	m := &k[h.Sum32()%uint32(len(k))]
	m.Lock()
	return m.Unlock
}

func (s *state) currentTerm() (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.term, s.leader
}
