package reconciler

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// changeStore is a plain store (no two-phase save) that records the groups
// each SaveChanged was told changed; a whole-config Save is counted apart.
type changeStore struct {
	sources.Store
	mu      sync.Mutex
	changed [][]plugin.ID
	saves   int
	gate    chan struct{} // when set, the first save waits for it
	entered chan struct{}
	once    sync.Once
}

var _ sources.ChangeSaver = (*changeStore)(nil)

func (s *changeStore) wait() {
	s.once.Do(func() {
		if s.gate != nil {
			s.entered <- struct{}{}
			<-s.gate
		}
	})
}

func (s *changeStore) Save(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Version, error) {
	s.wait()
	s.mu.Lock()
	s.saves++
	s.mu.Unlock()
	return s.Store.Save(ctx, cfg, v)
}

func (s *changeStore) SaveChanged(ctx context.Context, cfg sources.Config, v sources.Version, changed []plugin.ID) (sources.Version, error) {
	s.wait()
	s.mu.Lock()
	s.changed = append(s.changed, append([]plugin.ID(nil), changed...))
	s.mu.Unlock()
	// As the contract says: only the named groups are looked at, the
	// others stay as stored at v.
	cur, cv, err := s.Store.Load(ctx)
	if err != nil {
		return "", err
	}
	if cv != v {
		return "", sources.ErrConflict
	}
	next := cur.Clone()
	if next.Groups == nil {
		next.Groups = map[plugin.ID]sources.Entry{}
	}
	for _, id := range changed {
		if e, ok := cfg.Groups[id]; ok {
			next.Groups[id] = e
		} else {
			delete(next.Groups, id)
		}
	}
	return s.Store.Save(ctx, next, v)
}

func TestWriter_ChangeSaverIsToldTheBatchsGroups(t *testing.T) {
	base := newEnv(t, true)
	cs := &changeStore{Store: base.store}
	e := newEnv(t, true, func(o *Options) { o.Store = cs })
	e.start(t)
	e.waitLeader(t, true)
	require.Eventually(t, func() bool {
		_, _, cached := e.m.r.desired.base()
		return cached
	}, timeout, tick, "the store is read: saves go against the cached config")

	_, err := e.m.Group().CommitGroup(t.Context(), spec("a", 1), false)
	require.NoError(t, err)
	_, err = e.m.Group().CommitGroup(t.Context(), spec("b", 1), false)
	require.NoError(t, err)
	require.NoError(t, e.m.Group().FreeGroup(t.Context(), "a"))

	cs.mu.Lock()
	defer cs.mu.Unlock()
	require.Equal(t, [][]plugin.ID{{"a"}, {"b"}, {"a"}}, cs.changed)
	require.Zero(t, cs.saves, "a ChangeSaver is never given the whole config to diff")
	require.Equal(t, []plugin.ID{"b"}, base.stored(t))
}

func TestWriter_RejectedMemberOfABatchIsNotStored(t *testing.T) {
	base := newEnv(t, true)
	cs := &changeStore{Store: base.store, gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := newEnv(t, true, func(o *Options) { o.Store = cs })
	e.start(t)
	e.waitLeader(t, true)

	commit := func(s plugin.Spec) chan error {
		done := make(chan error, 1)
		go func() {
			_, err := e.m.Group().CommitGroup(context.Background(), s, false)
			done <- err
		}()
		return done
	}
	first := commit(spec("first", 1))
	<-cs.entered // the first save holds the writer: the next two form one batch
	good := commit(spec("good", 1))
	bad := commit(plugin.Spec{ID: "bad", Properties: json.RawMessage(`{"Instance":{}}`)})
	require.Eventually(t, func() bool {
		e.m.r.w.mu.Lock()
		defer e.m.r.w.mu.Unlock()
		return len(e.m.r.w.pending) == 2
	}, timeout, tick, "both writes queue behind the first save")
	close(cs.gate)
	require.NoError(t, <-first)
	require.NoError(t, <-good)
	require.ErrorContains(t, <-bad, "Allocation must not be blank")

	require.ElementsMatch(t, []plugin.ID{"first", "good"}, base.stored(t), "the rejected member was stored")
	require.ElementsMatch(t, []plugin.ID{"first", "good"}, e.m.r.desired.keys())
	cs.mu.Lock()
	defer cs.mu.Unlock()
	require.Equal(t, []plugin.ID{"good"}, cs.changed[len(cs.changed)-1])
}

// The writer hands a ChangeSaver only the changed groups: every other
// stored group survives, and the desired cache follows in place.
func TestWriter_ChangeSaverGetsOnlyTheChangedGroups(t *testing.T) {
	base := newEnv(t, true)
	cs := &partialCheck{changeStore: changeStore{Store: base.store}}
	e := newEnv(t, true, func(o *Options) { o.Store = cs })
	e.start(t)
	e.waitLeader(t, true)
	for _, id := range []string{"a", "b", "c"} {
		_, err := e.m.Group().CommitGroup(t.Context(), spec(id, 1), false)
		require.NoError(t, err)
	}
	require.NoError(t, e.m.Group().DestroyGroup(t.Context(), "b"))
	require.ElementsMatch(t, []plugin.ID{"a", "c"}, base.stored(t))
	require.ElementsMatch(t, []plugin.ID{"a", "c"}, e.m.r.desired.keys())
	require.Equal(t, 1, cs.largest(), "each save was handed the one group it changed")
	specs, err := e.m.Group().InspectGroups(t.Context())
	require.NoError(t, err)
	require.Len(t, specs, 2)
}

// partialCheck records the largest config a SaveChanged was handed.
type partialCheck struct {
	changeStore
	mu  sync.Mutex
	max int
}

func (p *partialCheck) SaveChanged(ctx context.Context, cfg sources.Config, v sources.Version, changed []plugin.ID) (sources.Version, error) {
	p.mu.Lock()
	p.max = max(p.max, len(cfg.Groups))
	p.mu.Unlock()
	return p.changeStore.SaveChanged(ctx, cfg, v, changed)
}

func (p *partialCheck) largest() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}
