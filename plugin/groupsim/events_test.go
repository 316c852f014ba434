package groupsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/plugin"
)

// lockedBuffer is a bytes.Buffer that records each Write separately.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func TestEvents(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Unix(1700000000, 5))
	var buf lockedBuffer
	opts := DefaultOptions()
	opts.Clock = fc
	opts.Events = &buf
	p := newTestPlugin(t, opts)
	ctx := t.Context()
	spec := plugin.Spec{ID: "cattle", Properties: []byte(cattleProps)}

	_, err := p.CommitGroup(ctx, spec, true) // pretend: not recorded
	require.NoError(t, err)
	_, err = p.CommitGroup(ctx, spec, false)
	require.NoError(t, err)
	fc.Step(time.Second)
	_, err = p.CommitGroup(ctx, plugin.Spec{ID: "bad"}, false)
	require.Error(t, err)
	_, err = p.DescribeGroup(ctx, "cattle") // not recorded
	require.NoError(t, err)
	_, err = p.InspectGroups(ctx) // not recorded
	require.NoError(t, err)
	require.NoError(t, p.FreeGroup(ctx, "cattle"))
	require.Error(t, p.FreeGroup(ctx, "cattle"))
	fc.Step(time.Second)
	_, err = p.CommitGroup(ctx, spec, false)
	require.NoError(t, err)
	require.NoError(t, p.DestroyGroup(ctx, "cattle"))

	t0 := time.Unix(1700000000, 5).UnixNano()
	t1, t2 := t0+int64(time.Second), t0+2*int64(time.Second)
	want := []Event{
		{T: t0, Op: OpCommit, Group: "cattle", OK: true},
		{T: t1, Op: OpCommit, Group: "bad", OK: false},
		{T: t1, Op: OpInspect, Group: "", OK: true}, // a resync's read of the downstream
		{T: t1, Op: OpFree, Group: "cattle", OK: true},
		{T: t1, Op: OpFree, Group: "cattle", OK: false},
		{T: t2, Op: OpCommit, Group: "cattle", OK: true},
		{T: t2, Op: OpDestroy, Group: "cattle", OK: true},
	}
	got, err := ReadEvents(bytes.NewReader(buf.buf.Bytes()))
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, len(want), buf.writes, "one write per event")
	require.True(t, strings.HasPrefix(buf.buf.String(), `{"t":1700000000000000005,"op":"commit","group":"cattle","ok":true}`+"\n"))
}

func TestEventFileSharedByPlugins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	var plugins []*Plugin
	for range 2 {
		f, err := OpenEventFile(path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		opts := DefaultOptions()
		opts.Events = f
		plugins = append(plugins, newTestPlugin(t, opts))
	}
	var wg sync.WaitGroup
	for i, p := range plugins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: plugin.ID([]string{"a", "b"}[i]), Properties: props(`{"Size":1}`, "v1")}, false)
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	events, err := ReadEventFile(path)
	require.NoError(t, err)
	require.Len(t, events, 200)
	count := map[string]int{}
	for _, ev := range events {
		require.Equal(t, OpCommit, ev.Op)
		require.True(t, ev.OK)
		count[ev.Group]++
	}
	require.Equal(t, map[string]int{"a": 100, "b": 100}, count)
}

func TestReadEvents(t *testing.T) {
	cases := []struct {
		name string
		in   string
		n    int
		err  string
	}{
		{"empty", "", 0, ""},
		{"two", "{\"t\":1,\"op\":\"free\",\"group\":\"a\",\"ok\":true}\n{\"t\":2,\"op\":\"destroy\",\"group\":\"a\",\"ok\":false}\n", 2, ""},
		{"partial last line ignored", "{\"t\":1,\"op\":\"free\",\"group\":\"a\",\"ok\":true}\n{\"t\":2,\"op\"", 1, ""},
		{"bad line", "{\"t\":1}\nnot json\n", 1, "event log line 2: invalid character 'o' in literal null (expecting 'u')"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadEvents(strings.NewReader(c.in))
			require.Len(t, got, c.n)
			if c.err == "" {
				require.NoError(t, err)
			} else {
				require.EqualError(t, err, c.err)
			}
		})
	}
	_, err := ReadEventFile(filepath.Join(t.TempDir(), "missing"))
	require.True(t, errors.Is(err, os.ErrNotExist))
}

// failingWriter always fails: a broken event log must not fail the calls.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEventWriteErrorDoesNotFailCalls(t *testing.T) {
	opts := DefaultOptions()
	opts.Events = failingWriter{}
	p := newTestPlugin(t, opts)
	_, err := p.CommitGroup(t.Context(), plugin.Spec{ID: "g", Properties: props(`{"Size":1}`, "v1")}, false)
	require.NoError(t, err)
	require.NoError(t, p.FreeGroup(t.Context(), "g"))
}

func TestAppendEventIsMarshal(t *testing.T) {
	for _, ev := range []Event{
		{T: 1764669000123456789, Op: OpCommit, Group: "g0000001", OK: true},
		{T: -5, Op: OpInspect},
		{Op: OpFree, Group: "a<b&c>", OK: true},
		{Op: OpDestroy, Group: "quote\"back\\slash\ttab é \u2028"},
	} {
		want, err := json.Marshal(ev)
		require.NoError(t, err)
		got, err := appendEvent([]byte("keep:"), ev)
		require.NoError(t, err)
		require.Equal(t, "keep:"+string(want)+"\n", string(got))
	}
}
