package plugin

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEncodeRequestIsMarshal: the hand-assembled envelope is byte for byte
// what json.Marshal makes of clientRequest, for params as call encodes
// them (HTML characters, unicode, nested values) and any id.
func TestEncodeRequestIsMarshal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		params any
		id     int64
	}{
		{"commit", "Group.CommitGroup", CommitGroupRequest{Spec: Spec{ID: "web", Properties: json.RawMessage(` { "a" : [1, 2, {"<b>":"&x"}] } `)}}, 42},
		{"empty params", "Plugin.Implements", struct{}{}, -1},
		{"unicode id and method", "Group.<Describe>\u2028", IDRequest{ID: "gr\u00fcn\u2029<&>"}, math.MaxInt64},
		{"min id", "Group.InspectGroups", struct{}{}, math.MinInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params, err := json.Marshal(tc.params)
			require.NoError(t, err)
			want, err := json.Marshal(clientRequest{Version: "2.0", Method: tc.method, Params: params, ID: tc.id})
			require.NoError(t, err)
			got, err := encodeRequest(tc.method, params, tc.id)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

// TestEncodeParamsIsMarshal: commit params written directly are byte for
// byte json.Marshal's, and the direct way takes what a takeover sends.
func TestEncodeParamsIsMarshal(t *testing.T) {
	taken := 0
	for _, props := range []string{"", "null", `{"Allocation":{"Size":1}}`, ` {"a": 1}`, `{"a":"<b>"}`, `{"a":"x y"}`, `{"a":"\u00e9"}`, `{"a":1e2,"b":[true,null]}`, `{`, `[1,2]`, `"s"`, "{\n  \"Allocation\": {\n    \"Size\": 1\n  },\n  \"Note\": \"a b\"\n}", "{\"a\":\"\u2028\"}", "{\"a\":\"\xff\"}", `{"a":1} x`} {
		for _, id := range []ID{"g0000001", "", "a b", "<&>", "gr\u00fcn", "q\"uote"} {
			for _, pretend := range []bool{false, true} {
				var raw json.RawMessage
				if props != "" {
					raw = json.RawMessage(props)
				}
				taken += checkEncodeParams(t, CommitGroupRequest{Spec: Spec{ID: id, Properties: raw}, Pretend: pretend})
			}
		}
	}
	require.Greater(t, taken, 20)
}

// checkEncodeParams compares encodeParams with json.Marshal and says
// whether the direct way took p.
func checkEncodeParams(t *testing.T, p CommitGroupRequest) int {
	t.Helper()
	want, werr := json.Marshal(p)
	got, gerr := encodeParams(p)
	require.Equal(t, werr != nil, gerr != nil, "%#v", p)
	require.Equal(t, string(want), string(got), "%#v", p)
	if _, ok := appendCommitParams(nil, p); ok {
		return 1
	}
	return 0
}

// TestHeaderKeysCanonical: the client and server set these keys directly,
// which is Header.Set only for canonical keys.
func TestHeaderKeysCanonical(t *testing.T) {
	for _, k := range []string{"Content-Type", "X-Content-Type-Options", "Content-Length", HeaderTimeout} {
		require.Equal(t, http.CanonicalHeaderKey(k), k)
	}
}
