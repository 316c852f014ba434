package plugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// inspectOnly is a Group that answers InspectGroups with fixed specs.
type inspectOnly struct{ specs []plugin.Spec }

var _ plugin.Group = inspectOnly{}

var errOnlyInspect = errors.New("only InspectGroups")

func (g inspectOnly) CommitGroup(context.Context, plugin.Spec, bool) (string, error) {
	return "", errOnlyInspect
}
func (g inspectOnly) FreeGroup(context.Context, plugin.ID) error { return errOnlyInspect }
func (g inspectOnly) DescribeGroup(context.Context, plugin.ID) (plugin.Description, error) {
	return plugin.Description{}, errOnlyInspect
}
func (g inspectOnly) DestroyGroup(context.Context, plugin.ID) error { return errOnlyInspect }
func (g inspectOnly) InspectGroups(context.Context) ([]plugin.Spec, error) {
	return g.specs, nil
}

// FuzzCheckSpec: whatever CheckSpec accepts is stored (sources.EncodeConfig)
// as valid UTF-8 within MaxSpecBytes, exactly as SpecSizes predicted, decodes
// back to the same spec, and is answered by InspectGroups as valid UTF-8 JSON
// that a strict decoder reads back.
func FuzzCheckSpec(f *testing.F) {
	for _, s := range []struct{ id, props string }{
		{"cattle", `{"Allocation":{"Size":2},"Instance":{"Plugin":"x","Properties":{"Note":"<&>"}}}`},
		{"e", ``}, {"n", `null`}, {"s", `"\ud83d\ude00 \u2028 é"`}, {"<id>", `[[[[1,{}]]],[]]`},
		{"bad", "\"\xff\""}, {"lone", `"\ud800"`}, {"deep", strings.Repeat("[", 70) + strings.Repeat("]", 70)},
		{"ws", " { \"a\" :\t[ 1 , 2 ]\n} "}, {"\u2029", `{"k":"\u003c"}`},
	} {
		f.Add(s.id, []byte(s.props))
	}
	limits := plugin.DefaultLimits()
	f.Fuzz(func(t *testing.T, id string, props []byte) {
		if len(props) == 0 {
			props = nil // absent on the wire; an empty non-nil RawMessage never comes from decoding
		}
		spec := plugin.Spec{ID: plugin.ID(id), Properties: props}
		if err := limits.CheckSpec(spec); err != nil {
			return
		}
		require.True(t, utf8.ValidString(id))
		stored, sent := plugin.SpecSizes(spec)
		require.LessOrEqual(t, sent, stored)
		require.LessOrEqual(t, stored, limits.MaxSpecBytes)

		whole, err := json.Marshal(spec)
		require.NoError(t, err)
		require.Len(t, whole, sent, "sent size of %s", whole)
		require.True(t, utf8.Valid(whole))

		// Through the store: the spec's value takes exactly `stored` bytes.
		cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{spec.ID: {Plugin: "p", Properties: whole}}}
		data, err := sources.EncodeConfig(cfg)
		require.NoError(t, err)
		require.True(t, utf8.Valid(data), "the store is not valid UTF-8")
		one, err := sources.EncodeConfig(sources.Config{Groups: map[plugin.ID]sources.Entry{spec.ID: {Plugin: "p", Properties: json.RawMessage("0")}}})
		require.NoError(t, err)
		require.Equal(t, stored, len(data)-len(one)+1, "stored size of %s", whole)
		back, err := sources.DecodeConfig(data)
		require.NoError(t, err)
		var got plugin.Spec
		require.NoError(t, json.Unmarshal(back.Groups[spec.ID].Properties, &got))
		require.Equal(t, spec.ID, got.ID)
		requireSameJSON(t, spec.Properties, got.Properties)

		// Through InspectGroups, as a strict client reads it.
		h := plugin.NewHandler(inspectOnly{specs: []plugin.Spec{got}}, plugin.DefaultServerOptions())
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		require.True(t, utf8.Valid(body), "InspectGroups answered invalid UTF-8")
		require.LessOrEqual(t, len(body), sent+100)
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var resp struct {
			JSONRPC string `json:"jsonrpc"`
			Result  plugin.InspectGroupsResponse
			ID      int
		}
		require.NoError(t, dec.Decode(&resp), "%s", body)
		require.Len(t, resp.Result.Groups, 1)
		require.Equal(t, spec.ID, resp.Result.Groups[0].ID)
		requireSameJSON(t, spec.Properties, resp.Result.Groups[0].Properties)
	})
}

// requireSameJSON compares two JSON texts by value (absent means null).
func requireSameJSON(t *testing.T, want, got json.RawMessage) {
	t.Helper()
	var a, b any
	if len(want) > 0 {
		require.NoError(t, json.Unmarshal(want, &a))
	}
	if len(got) > 0 {
		require.NoError(t, json.Unmarshal(got, &b))
	}
	require.Equal(t, a, b)
}
