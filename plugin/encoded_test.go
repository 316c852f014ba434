package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// keptGroup answers InspectGroups from kept encodings.
type keptGroup struct {
	*fakeGroup
	enc EncodedSpecs
}

func (k *keptGroup) InspectGroupsEncoded(context.Context) (EncodedSpecs, error) { return k.enc, nil }

// TestServerEncodedInspect: a Group with kept encodings is answered with
// exactly the bytes of a Group that returns the same specs, over a socket.
func TestServerEncodedInspect(t *testing.T) {
	var many []Spec
	for i := range 3000 { // several encodedChunk writes
		many = append(many, Spec{ID: ID(fmt.Sprintf("g%04d", i)), Properties: json.RawMessage(`{"a":"<b>","n":[1, 2]}`)})
	}
	tests := []struct {
		name  string
		specs []Spec
	}{
		{"none", nil},
		{"one, with escapes and spaces", []Spec{{ID: "web", Properties: json.RawMessage(`{"x": "<&>", "y": null}`)}}},
		{"no properties", []Spec{{ID: "a"}}},
		{"many", many},
	}
	const req = `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":7}`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain := newFakeGroup()
			plain.inspect = tt.specs
			enc, err := EncodeSpecs(tt.specs)
			require.NoError(t, err)
			kept := &keptGroup{fakeGroup: newFakeGroup(), enc: enc}
			_, want := rawExchange(t, serveFake(t, plain, DefaultServerOptions()).Path(), rawPost(req, "Content-Type: application/json"))
			resp, got := rawExchange(t, serveFake(t, kept, DefaultServerOptions()).Path(), rawPost(req, "Content-Type: application/json"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, string(want), string(got))
			require.Empty(t, kept.Calls(), "the kept encoding answers, not InspectGroups")
		})
	}
}
