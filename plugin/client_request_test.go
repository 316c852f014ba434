package plugin

import (
	"encoding/json"
	"math"
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
