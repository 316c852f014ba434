package ops

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/plugin"
)

func TestLedger(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakePassiveClock(t0)
	l := NewLedger(clk)
	l.Record("web", "commit", nil, "not running downstream")
	clk.SetTime(t0.Add(time.Second))
	l.Record("db", "free", errors.New("plugin unreachable"), "not stored")
	l.Record("web", "noop", nil, "running as stored")

	require.Equal(t, []plugin.GroupStatus{
		{ID: "db", LastAction: "free", LastResult: "plugin unreachable", LastTime: t0.Add(time.Second), Reason: "not stored"},
		{ID: "web", LastAction: "noop", LastResult: "ok", LastTime: t0.Add(time.Second), Reason: "running as stored"},
	}, l.Groups())

	l.Forget("db")
	require.Equal(t, []plugin.GroupStatus{
		{ID: "new", LastAction: "none"},
		{ID: "web", LastAction: "noop", LastResult: "ok", LastTime: t0.Add(time.Second), Reason: "running as stored"},
	}, l.Groups("web", "new"))
}

func TestLedgerRetain(t *testing.T) {
	l := NewLedger(nil)
	for _, id := range []plugin.ID{"a", "b", "c"} {
		l.Record(id, "free", nil, "not stored")
	}
	l.Retain([]plugin.ID{"b", "gone"})
	got := l.Groups()
	require.Len(t, got, 1)
	require.Equal(t, plugin.ID("b"), got[0].ID)
	l.Retain(nil)
	require.Empty(t, l.Groups())
}
