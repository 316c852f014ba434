package controller

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// landsThenHangs is a store whose Save, once armed, stores the change and
// then does not return until its context ends: the write is durable, but
// the caller cannot know (a term that ends during a rename or an etcd txn).
// It has no Prepare, so every save goes through Save.
type landsThenHangs struct {
	*sourcestest.MemStore
	armed  chan struct{} // closed: the next Save lands, then hangs
	landed chan struct{} // closed once it landed
}

func (s *landsThenHangs) Save(ctx context.Context, cfg sources.Config, v sources.Version) (sources.Version, error) {
	nv, err := s.MemStore.Save(ctx, cfg, v)
	select {
	case <-s.armed:
	default:
		return nv, err
	}
	close(s.landed)
	<-ctx.Done()
	return "", ctx.Err()
}

// A write whose outcome is unknown because the term ended while it was in
// flight is not answered with the bare not-a-leader, which says that nothing
// was done (clients and forwarding followers resend on it): here the
// destroy is recorded, and the caller must be told its outcome is unknown.
func TestFront_ATermEndingDuringAWriteIsNotABareNotALeader(t *testing.T) {
	st := &landsThenHangs{MemStore: sourcestest.NewMemStore(), armed: make(chan struct{}), landed: make(chan struct{})}
	e := newEnv(t, true, func(o *Options) { o.Store = st; o.StoreTimeout = time.Minute })
	e.start(t)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("cattle", 2), false)
	require.NoError(t, err)

	close(st.armed)
	errc := make(chan error, 1)
	go func() { errc <- e.m.Group().DestroyGroup(context.Background(), "cattle") }()
	select {
	case <-st.landed:
	case <-time.After(timeout):
		t.Fatal("the destroy's save never ran")
	}
	e.leader.Set(false) // the term ends while the save has not returned
	select {
	case err = <-errc:
	case <-time.After(timeout):
		t.Fatal("DestroyGroup did not return")
	}
	cfg, _, lerr := st.MemStore.Load(t.Context())
	require.NoError(t, lerr)
	require.Contains(t, cfg.Destroying, plugin.ID("cattle"), "the destroy was stored")
	require.Error(t, err)
	require.ErrorIs(t, err, ErrNotLeader)
	require.NotEqual(t, ErrNotLeader.Error(), err.Error(),
		"a bare not-a-leader means nothing was done; this destroy is recorded")
}
