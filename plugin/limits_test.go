package plugin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// nested returns an array nested depth levels deep around inner.
func nested(depth int, inner string) json.RawMessage {
	return json.RawMessage(strings.Repeat("[", depth) + inner + strings.Repeat("]", depth))
}

func TestCheckSpec(t *testing.T) {
	l := DefaultLimits()
	for _, tc := range []struct {
		name  string
		spec  Spec
		kind  error
		texts []string // all must appear; none means accepted
	}{
		{name: "plain", spec: Spec{ID: "web", Properties: json.RawMessage(`{"Instance":{"Plugin":"x"},"n":[1,2,{}]}`)}},
		{name: "no properties", spec: Spec{ID: "web"}},
		{name: "depth at the limit", spec: Spec{ID: "d", Properties: nested(64, "1")}},
		{name: "depth over the limit", spec: Spec{ID: "d", Properties: nested(65, "1")}, kind: ErrLimit,
			texts: []string{`group "d"`, "depth limit of 64 levels", "at byte 64"}},
		{name: "objects count as levels", spec: Spec{ID: "o", Properties: json.RawMessage(strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65))},
			kind: ErrLimit, texts: []string{"depth limit of 64"}},
		{name: "brackets in strings do not nest", spec: Spec{ID: "s", Properties: json.RawMessage(`"` + strings.Repeat("[", 100) + `"`)}},
		{name: "9000 deep", spec: Spec{ID: "deep", Properties: nested(9000, "")}, kind: ErrLimit, texts: []string{"depth limit"}},
		{name: "20000 deep is a depth error, not a JSON error", spec: Spec{ID: "deeper", Properties: nested(20000, "")}, kind: ErrLimit},
		{name: "invalid UTF-8 in properties", spec: Spec{ID: "u", Properties: json.RawMessage("{\"a\":\"ok\xff\"}")}, kind: ErrInvalidUTF8,
			texts: []string{`group "u"`, "not valid UTF-8 at byte 8"}},
		{name: "invalid UTF-8 in the ID", spec: Spec{ID: "a\xc3", Properties: json.RawMessage(`{}`)}, kind: ErrInvalidUTF8,
			texts: []string{"group ID", "at byte 1"}},
		{name: "lone high surrogate", spec: Spec{ID: "s", Properties: json.RawMessage(`["ab\ud800x"]`)}, kind: ErrInvalidUTF8,
			texts: []string{"unpaired UTF-16 surrogate escape at byte 4"}},
		{name: "lone low surrogate", spec: Spec{ID: "s", Properties: json.RawMessage(`["\udc00"]`)}, kind: ErrInvalidUTF8},
		{name: "high surrogate at end of string", spec: Spec{ID: "s", Properties: json.RawMessage(`["\ud83d"]`)}, kind: ErrInvalidUTF8},
		{name: "surrogate pair", spec: Spec{ID: "s", Properties: json.RawMessage(`["\ud83d\ude00 \n \\ \u00e9"]`)}},
		{name: "not JSON", spec: Spec{ID: "j", Properties: json.RawMessage(`{"a":`)}, texts: []string{"not valid JSON"}},
		{name: "escaped angle brackets grow six-fold", spec: Spec{ID: "lt", Properties: json.RawMessage(`"` + strings.Repeat("<", 200_000) + `"`)},
			kind: ErrLimit, texts: []string{`group "lt"`, "1200", "as stored", "over the spec size limit of 1048576 bytes", "200000 characters '<'"}},
		{name: "large but under", spec: Spec{ID: "big", Properties: json.RawMessage(`"` + strings.Repeat("a", 1<<20-100) + `"`)}},
		{name: "large and over", spec: Spec{ID: "big", Properties: json.RawMessage(`"` + strings.Repeat("a", 1<<20) + `"`)},
			kind: ErrLimit, texts: []string{"over the spec size limit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := l.CheckSpec(tc.spec)
			if tc.kind == nil && len(tc.texts) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			if tc.kind != nil {
				require.ErrorIs(t, err, tc.kind)
			}
			for _, s := range tc.texts {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

// indentLikeStore indents compact JSON as sources.EncodeConfig places a spec.
func indentLikeStore(t *testing.T, compact []byte) []byte {
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, compact, strings.Repeat(" ", storePrefix+storeSpecDepth*storeIndent), "  "))
	return buf.Bytes()
}

func TestSpecSizesMatchEncoding(t *testing.T) {
	for _, spec := range []Spec{
		{ID: "a"},
		{ID: "a<b>&\"\\\n\t\x01\u2028é\U0001F600", Properties: json.RawMessage(` { "x" : [ 1 , [ ] , { } , {"y":"<\u2028>"} ] } `)},
		{ID: "n", Properties: nested(64, `{"a":[1,2,"&"]}`)},
		{ID: "e", Properties: json.RawMessage(`"\"\\u003c\u2029"`)},
		{ID: "s", Properties: json.RawMessage(`12.5e3`)},
		{ID: "\uFFFD", Properties: json.RawMessage(`[[],[[]],{}]`)},
	} {
		compact, err := json.Marshal(spec)
		require.NoError(t, err)
		stored, sent := SpecSizes(spec)
		require.Equal(t, len(compact), sent, "sent size of %s", compact)
		require.Equal(t, len(indentLikeStore(t, compact)), stored, "stored size of %s", compact)
	}
}

func TestLimitsValidate(t *testing.T) {
	require.NoError(t, DefaultLimits().Validate())
	for _, l := range []Limits{
		{MaxDepth: 0, MaxSpecBytes: 1, MaxStoreBytes: 1},
		{MaxDepth: 10001, MaxSpecBytes: 1, MaxStoreBytes: 1},
		{MaxDepth: 1, MaxSpecBytes: 0, MaxStoreBytes: 1},
		{MaxDepth: 1, MaxSpecBytes: 2, MaxStoreBytes: 1},
	} {
		require.Error(t, l.Validate(), "%+v", l)
	}
}
