package file

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// layoutOf encodes every group of cfg from scratch.
func layoutOf(t testing.TB, cfg sources.Config) *layout {
	t.Helper()
	frags := map[plugin.ID]*fragment{}
	for id, e := range cfg.Groups {
		f, err := encodeFragment(id, e)
		require.NoError(t, err)
		frags[id] = f
	}
	l := newLayout(frags)
	require.NoError(t, l.setDestroying(cfg.Destroying))
	return l
}

// requireSameAsEncodeConfig checks the assembled bytes, the size and the
// match against EncodeConfig, the reference.
func requireSameAsEncodeConfig(t testing.TB, l *layout, cfg sources.Config) {
	want, err := sources.EncodeConfig(cfg)
	require.NoError(t, err)
	require.Equal(t, string(want), string(l.bytes()))
	require.Equal(t, int64(len(want)), l.size())
	require.True(t, l.matches(want))
	if len(want) > 0 {
		changed := append([]byte(nil), want...)
		changed[len(changed)/2] ^= 1
		require.False(t, l.matches(changed))
	}
	require.Equal(t, layoutOf(t, cfg).version(), l.version(), "the version depends on the config only")
}

var trickyGroups = map[plugin.ID]sources.Entry{
	"web":        {Plugin: "group-stateless", Properties: json.RawMessage(`{"ID":"web","Properties":{"Allocation":{"Size":2}}}`)},
	"<&>":        {Plugin: "p<&>", Properties: json.RawMessage(`{"html":"<b>&amp;</b>","sep":"\u2028"}`)},
	"\xff\xfe":   {Plugin: "bad utf-8 key", Properties: json.RawMessage(`[1, 2 ,{"a" : [ ] , "b":{}}]`)},
	"nil":        {Plugin: "nothing"},
	"spaced":     {Plugin: "x", Properties: json.RawMessage(" \n\t{\"a\":\n1}\n")},
	"ünïcödé 日本": {Plugin: "ü", Properties: json.RawMessage(`"just a string"`)},
	"":           {Plugin: "", Properties: json.RawMessage(`null`)},
}

func TestLayout_IsEncodeConfig(t *testing.T) {
	original, err := os.ReadFile(filepath.Join("..", "testdata", "original-global.config"))
	require.NoError(t, err)
	origCfg, err := sources.DecodeConfig(original)
	require.NoError(t, err)
	require.Equal(t, string(original), string(layoutOf(t, origCfg).bytes()))

	cases := map[string]sources.Config{
		"empty":    {Groups: map[plugin.ID]sources.Entry{}},
		"nil":      {},
		"original": origCfg,
		"tricky":   {Groups: trickyGroups},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			requireSameAsEncodeConfig(t, layoutOf(t, cfg), cfg)
		})
	}
}

func TestLayout_NextEncodesOnlyWhatChanged(t *testing.T) {
	base := layoutOf(t, sources.Config{Groups: trickyGroups})
	same, err := base.next(sources.Config{Groups: trickyGroups})
	require.NoError(t, err)
	require.Same(t, base, same, "an unchanged config is the same layout")

	// equal content in other bytes is still unchanged
	copied := map[plugin.ID]sources.Entry{}
	for id, e := range trickyGroups {
		copied[id] = sources.Entry{Plugin: e.Plugin, Properties: append(json.RawMessage(nil), e.Properties...)}
	}
	same, err = base.next(sources.Config{Groups: copied})
	require.NoError(t, err)
	require.Same(t, base, same)

	steps := []func(g map[plugin.ID]sources.Entry){
		func(g map[plugin.ID]sources.Entry) {
			g["web"] = sources.Entry{Plugin: "group-stateless", Properties: json.RawMessage(`{"ID":"web","Properties":{"Allocation":{"Size":3}}}`)}
		},
		func(g map[plugin.ID]sources.Entry) { delete(g, "<&>") },
		func(g map[plugin.ID]sources.Entry) {
			g["aaa"] = sources.Entry{Plugin: "first", Properties: json.RawMessage(`{}`)}
		},
		func(g map[plugin.ID]sources.Entry) { g["zzz"] = sources.Entry{Plugin: "last"}; delete(g, "nil") },
		func(g map[plugin.ID]sources.Entry) { g["nil"] = sources.Entry{Plugin: "other plugin"} },
		func(g map[plugin.ID]sources.Entry) {
			for id := range g {
				delete(g, id)
			}
		},
		func(g map[plugin.ID]sources.Entry) {
			g["only"] = sources.Entry{Plugin: "p", Properties: json.RawMessage(`1`)}
		},
	}
	cur := base
	groups := map[plugin.ID]sources.Entry{}
	for id, e := range trickyGroups {
		groups[id] = e
	}
	for i, step := range steps {
		step(groups)
		next, err := cur.next(sources.Config{Groups: groups})
		require.NoError(t, err, "step %d", i)
		requireSameAsEncodeConfig(t, next, sources.Config{Groups: groups})
		for id, f := range next.frags {
			if old, ok := cur.frags[id]; ok && old.holds(groups[id]) {
				require.Same(t, old, f, "step %d: unchanged group %q re-encoded", i, id)
			}
		}
		cur = next
	}
	requireSameAsEncodeConfig(t, base, sources.Config{Groups: trickyGroups}) // base never changed
}

// Pending destroys are a top-level "Destroying" after "Groups", written
// only when there are any; a file with them still reads as its groups to a
// reader that knows only Groups (the original manager).
func TestLayout_PendingDestroys(t *testing.T) {
	web := trickyGroups["web"]
	steps := []sources.Config{
		{Groups: map[plugin.ID]sources.Entry{}, Destroying: map[plugin.ID]sources.Entry{"web": web}},
		{Groups: trickyGroups, Destroying: map[plugin.ID]sources.Entry{"old": web, "<&>": trickyGroups["<&>"]}},
		{Groups: trickyGroups, Destroying: map[plugin.ID]sources.Entry{"old": web}},
		{Groups: trickyGroups},
		{Groups: map[plugin.ID]sources.Entry{"a": web}, Destroying: map[plugin.ID]sources.Entry{"web": web}},
	}
	cur := layoutOf(t, sources.Config{})
	for i, cfg := range steps {
		next, err := cur.next(cfg)
		require.NoError(t, err, "step %d", i)
		requireSameAsEncodeConfig(t, next, cfg)
		back, err := sources.DecodeConfig(next.bytes())
		require.NoError(t, err)
		require.Len(t, back.Destroying, len(cfg.Destroying), "step %d", i)
		var original struct{ Groups map[plugin.ID]sources.Entry }
		require.NoError(t, json.Unmarshal(next.bytes(), &original), "step %d: the original's reader", i)
		require.Len(t, original.Groups, len(cfg.Groups), "step %d", i)
		if len(cfg.Destroying) == 0 {
			require.NotContains(t, string(next.bytes()), "Destroying", "step %d: the original format", i)
		}
		cur = next
	}
	_, err := cur.next(sources.Config{Destroying: map[plugin.ID]sources.Entry{"x": {Plugin: "p", Properties: json.RawMessage(`{`)}}})
	require.Error(t, err)
}

func TestLayout_RefusesInvalidProperties(t *testing.T) {
	base := layoutOf(t, sources.Config{Groups: map[plugin.ID]sources.Entry{"a": {Plugin: "p"}}})
	_, err := base.next(sources.Config{Groups: map[plugin.ID]sources.Entry{"a": {Plugin: "p", Properties: json.RawMessage(`{"ID":`)}}})
	require.ErrorContains(t, err, `group "a": properties are not valid JSON`)
}

func FuzzLayout(f *testing.F) {
	original, err := os.ReadFile(filepath.Join("..", "testdata", "original-global.config"))
	require.NoError(f, err)
	f.Add(original, []byte(`{"Groups":{"b":{"Plugin":"q"}}}`))
	f.Add([]byte(`{"Groups":{"a":{"Plugin":"p","Properties":[1,{"<":">"}]},"c":{}}}`), []byte(`{"Groups":{"a":{"Plugin":"p","Properties":[1, {"<":">"}]}}}`))
	f.Add([]byte(`{}`), []byte(`{"Groups":{"\u2028":{"Properties":"\ud800"}}}`))
	f.Add([]byte(`{"Groups":{"a":{"Plugin":"p"}},"Destroying":{"b":{"Plugin":"q","Properties":{"<":1}}}}`), []byte(`{"Destroying":{"a":{"Plugin":"p"}}}`))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		a, err := sources.DecodeConfig(first)
		if err != nil {
			return
		}
		b, err := sources.DecodeConfig(second)
		if err != nil {
			return
		}
		la := layoutOf(t, a)
		requireSameAsEncodeConfig(t, la, a)
		lb, err := la.next(b)
		require.NoError(t, err)
		requireSameAsEncodeConfig(t, lb, b)
	})
}

func TestEncodeFragment_ChecksPropertiesAlone(t *testing.T) {
	_, err := encodeFragment("a", sources.Entry{Plugin: "p", Properties: json.RawMessage(`1,"x":2`)})
	require.ErrorContains(t, err, "properties are not valid JSON")
	for _, bad := range []string{" ", "{", `"a"b`} {
		_, err := encodeFragment("a", sources.Entry{Plugin: "p", Properties: json.RawMessage(bad)})
		require.Error(t, err, "%q", bad)
		_, err = sources.EncodeConfig(sources.Config{Groups: map[plugin.ID]sources.Entry{"a": {Plugin: "p", Properties: json.RawMessage(bad)}}})
		require.Error(t, err, "EncodeConfig agrees on %q", bad)
	}
}

func TestEncoder_IsEncodeConfig(t *testing.T) {
	var enc Encoder
	groups := map[plugin.ID]sources.Entry{}
	for id, e := range trickyGroups {
		groups[id] = e
		got, err := enc.Encode(sources.Config{Groups: groups})
		require.NoError(t, err)
		want, err := sources.EncodeConfig(sources.Config{Groups: groups})
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	_, err := enc.Encode(sources.Config{Groups: map[plugin.ID]sources.Entry{"a": {Properties: json.RawMessage(`{`)}}})
	require.Error(t, err)
	got, err := enc.Encode(sources.Config{})
	require.NoError(t, err)
	require.Equal(t, frameEmpty, string(got))
}

// BenchmarkLayoutNext: finding and encoding the one changed group among
// 10,000, as a save does before it writes.
func BenchmarkLayoutNext(b *testing.B) {
	groups := map[plugin.ID]sources.Entry{}
	for i := range 10000 {
		id := plugin.ID(strconv.Itoa(100000 + i))
		groups[id] = sources.Entry{Plugin: "group-stateless", Properties: json.RawMessage(`{"ID":"` + string(id) + `","Properties":{"Allocation":{"Size":1}}}`)}
	}
	l := layoutOf(b, sources.Config{Groups: groups})
	cfg := sources.Config{Groups: l.decodedForTest()}
	gen := 0
	for b.Loop() {
		gen++
		cfg.Groups["100000"] = sources.Entry{Plugin: "p", Properties: json.RawMessage(strconv.Itoa(gen))}
		n, err := l.next(cfg)
		if err != nil {
			b.Fatal(err)
		}
		l = n
	}
}

func (l *layout) decodedForTest() map[plugin.ID]sources.Entry {
	out := map[plugin.ID]sources.Entry{}
	for _, f := range l.order {
		out[f.id] = f.entry
	}
	return out
}
