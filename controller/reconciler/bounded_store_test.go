package reconciler

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// The file store is the writeChecker the health loop asks in os mode.
var _ writeChecker = (*file.Store)(nil)

// plainStore is a store with no capability beyond sources.Store.
type plainStore struct{ sources.Store }

// stagerStore has a two-phase save (MemStore's) and no other capability.
type stagerStore struct {
	sources.Store
	sources.Stager
}

// changeStagerStore has every capability: MemStore's two-phase saves
// (whole and of the changed groups) and a save of the changed groups,
// which it counts.
type changeStagerStore struct {
	*sourcestest.MemStore
	changed int
}

func (s *changeStagerStore) SaveChanged(ctx context.Context, cfg sources.Config, v sources.Version, _ []plugin.ID) (sources.Version, error) {
	s.changed++
	return s.Save(ctx, cfg, v)
}

// The bounded store claims a capability exactly when the store it wraps has
// it: callers ask the store they hold (store.(sources.ChangeSaver)), so a
// wrapper that claimed one its store lacks would send them down a path the
// store cannot take.
func TestBoundedStore_ExposesOnlyTheWrappedStoresCapabilities(t *testing.T) {
	mem := sourcestest.NewMemStore
	cases := []struct {
		name                              string
		store                             sources.Store
		changeSaver, stager, changeStager bool
	}{
		{"plain", plainStore{mem()}, false, false, false},
		{"two-phase", func() sources.Store { m := mem(); return stagerStore{m, m} }(), false, true, false},
		{"two-phase of the changed groups", mem(), false, true, true},
		{"changed groups", &changeStore{Store: mem()}, true, false, false},
		{"all", &changeStagerStore{MemStore: mem()}, true, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := bound(newBoundedStore(c.store, time.Second, logr.Discard()))
			cs, isCS := s.(sources.ChangeSaver)
			st, isSt := s.(sources.Stager)
			cst, isCSt := s.(sources.ChangeStager)
			require.Equal(t, c.changeSaver, isCS, "sources.ChangeSaver")
			require.Equal(t, c.stager, isSt, "sources.Stager")
			require.Equal(t, c.changeStager, isCSt, "sources.ChangeStager")
			ctx := t.Context()
			_, v, err := s.Load(ctx)
			require.NoError(t, err)
			cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{"g": {Plugin: "p"}}}
			if isCS {
				v, err = cs.SaveChanged(ctx, cfg, v, []plugin.ID{"g"})
				require.NoError(t, err, "SaveChanged reaches the wrapped store")
			}
			if isSt {
				p, err := st.Prepare(ctx, cfg, v)
				require.NoError(t, err)
				v, err = p.Commit(ctx)
				require.NoError(t, err, "a prepared save commits through the wrapped store")
			}
			if isCSt {
				delta := sources.Config{Groups: map[plugin.ID]sources.Entry{"h": {Plugin: "p"}}}
				p, err := cst.PrepareChanged(ctx, delta, v, []plugin.ID{"h"})
				require.NoError(t, err)
				_, err = p.Commit(ctx)
				require.NoError(t, err, "a prepared save of the changed groups commits through the wrapped store")
			}
			got, _, err := s.Load(ctx)
			require.NoError(t, err)
			if isCS || isSt {
				require.Contains(t, got.Groups, plugin.ID("g"))
			}
			if isCSt {
				require.Contains(t, got.Groups, plugin.ID("h"))
			}
		})
	}
}

// A write's failure is kept until a write succeeds; a conflict or a
// cancelled call says nothing about the store.
func TestBoundedStore_ConflictOrCancelSaysNothingAboutTheStore(t *testing.T) {
	b := newBoundedStore(sourcestest.NewMemStore(), time.Second, logr.Discard())
	b.noteWrite(errors.New("no space left on device"))
	require.Error(t, b.writeFailure(), "a failure of the store is kept")
	b.noteWrite(nil)
	require.NoError(t, b.writeFailure(), "a success clears it")
	b.noteWrite(fmt.Errorf("save: %w", sources.ErrConflict))
	b.noteWrite(context.Canceled)
	require.NoError(t, b.writeFailure(), "a conflict or a cancelled call says nothing about the store")
}
