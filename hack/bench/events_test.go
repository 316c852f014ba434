package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestTailerReadsCompleteLinesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events")
	tl := &tailer{path: path}
	require.NoError(t, tl.poll(), "a missing log has no events yet")
	require.Empty(t, tl.events)

	appendFile(t, path, `{"t":10,"op":"commit","group":"a","ok":true}`+"\n"+`{"t":20,"op":"fr`)
	require.NoError(t, tl.poll())
	require.Len(t, tl.events, 1)

	appendFile(t, path, `ee","group":"a","ok":true}`+"\n")
	require.NoError(t, tl.poll())
	require.Len(t, tl.events, 2)
	require.Equal(t, "free", tl.events[1].Op)
	require.Equal(t, int64(20), tl.events[1].T)
}

func TestTailerRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events")
	appendFile(t, path, "not json\n")
	require.Error(t, (&tailer{path: path}).poll())
}

func TestWaitFirstAndDistinct(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events")
	appendFile(t, path, `{"t":5,"op":"commit","group":"a","ok":true}
{"t":15,"op":"commit","group":"a","ok":false}
{"t":16,"op":"free","group":"a","ok":true}
{"t":17,"op":"commit","group":"a","ok":true}
{"t":18,"op":"commit","group":"b","ok":true}
{"t":19,"op":"commit","group":"a","ok":true}
`)
	ctx := context.Background()
	tl := &tailer{path: path}
	got, err := tl.waitFirst(ctx, match{since: 10, op: "commit", group: "a"}, time.Second)
	require.NoError(t, err)
	require.Equal(t, int64(17), got, "failed commits and events before since do not count")

	got, err = tl.waitDistinct(ctx, match{since: 10, op: "commit"}, 2, time.Second)
	require.NoError(t, err)
	require.Equal(t, int64(18), got)

	_, err = tl.waitDistinct(ctx, match{since: 10, op: "commit"}, 3, 20*time.Millisecond)
	require.ErrorIs(t, err, errTimeout)
	require.ErrorContains(t, err, "saw 2")
}

func TestWaitSeesLaterWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events")
	tl := &tailer{path: path}
	go func() {
		time.Sleep(20 * time.Millisecond)
		appendFile(t, path, `{"t":100,"op":"free","group":"g","ok":true}`+"\n")
	}()
	got, err := tl.waitFirst(context.Background(), match{since: 1, op: "free", group: "g"}, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, int64(100), got)
}

func TestHandover(t *testing.T) {
	cases := []struct {
		name             string
		oldFree, newComm int64
		overlap, gap     time.Duration
	}{
		{"gap", 100, 130, 0, 30},
		{"overlap", 130, 100, 30, 0},
		{"same instant", 100, 100, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, g := handover(c.oldFree, c.newComm)
			require.Equal(t, c.overlap, o)
			require.Equal(t, c.gap, g)
		})
	}
}
