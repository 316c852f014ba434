package controller

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/controllertest"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// env is one manager wired to in-memory fakes.
type env struct {
	m      *Manager
	store  *sourcestest.MemStore
	leader *sourcestest.StaticLeadership
	down   *controllertest.Recorder
	dir    string
}

func newEnv(t *testing.T, leader bool, mutate ...func(*Options)) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "ikc")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	e := &env{
		store:  sourcestest.NewMemStore(),
		leader: sourcestest.NewStaticLeadership(leader),
		down:   controllertest.NewRecorder(t),
		dir:    dir,
	}
	o := DefaultOptions()
	o.Handover = HandoverFast
	o.PluginDir = dir
	o.Leadership, o.Store, o.Downstream = e.leader, e.store, e.down
	o.ResyncInterval = time.Hour
	o.Log = testr.New(t)
	for _, f := range mutate {
		f(&o)
	}
	e.m, err = New(o)
	require.NoError(t, err)
	return e
}

func (e *env) start(t *testing.T) {
	t.Helper()
	require.NoError(t, e.m.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, e.m.Stop(ctx))
	})
}

func spec(id string, size int) plugin.Spec { return controllertest.Spec(id, size) }

// running lists the IDs the downstream runs.
func (e *env) running(t *testing.T) []plugin.ID { return controllertest.Running(t, e.down) }

func (e *env) stored(t *testing.T) []plugin.ID { return controllertest.Stored(t, e.store) }

const (
	timeout = 5 * time.Second
	tick    = 5 * time.Millisecond
)

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, timeout, tick, msg)
}

// waitLeader waits until the manager has taken in a leadership change
// (the Watch callback is asynchronous).
func (e *env) waitLeader(t *testing.T, want bool) {
	t.Helper()
	eventually(t, func() bool { return (e.m.Role() == RoleLeader) == want }, "leadership taken in")
}
