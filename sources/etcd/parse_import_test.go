package etcd

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseImport(t *testing.T) {
	spec := func(id string) string {
		return `{"Plugin":"group","Properties":{"ID":` + id + `,"Properties":{"Init":"a && b > /tmp/x"}}}`
	}
	for _, tc := range []struct {
		name  string
		json  string
		named string // the group the error must name; "" = accepted
	}{
		{"ampersand accepted", `{"Groups":{"web":` + spec(`"web"`) + `}}`, ""},
		{"escaped ampersand accepted", `{"Groups":{"web":{"Plugin":"group","Properties":{"ID":"web","X":"a \u0026 b"}}}}`, ""},
		{"surrogate pair accepted", `{"Groups":{"\ud83d\ude00":` + spec(`"\ud83d\ude00"`) + `}}`, ""},
		{"empty ID", `{"Groups":{"":` + spec(`""`) + `}}`, `""`},
		{"invalid UTF-8", "{\"Groups\":{\"a\xffb\":" + spec("\"a\xffb\"") + `}}`, "\"a\xffb\""},
		{"lone high surrogate", `{"Groups":{"a\ud800":` + spec(`"a\ud800"`) + `}}`, `"a\ud800"`},
		{"lone low surrogate", `{"Groups":{"a\udc00b":` + spec(`"a\udc00b"`) + `}}`, `"a\udc00b"`},
		{"duplicate", `{"Groups":{"web":` + spec(`"web"`) + `,"web":` + spec(`"web"`) + `}}`, `"web"`},
		{"key differs from the spec ID", `{"Groups":{"web":` + spec(`"db"`) + `}}`, `"web"`},
		{"escaped backslash then u is no surrogate", `{"Groups":{"a\\ud800":` + spec(`"a\\ud800"`) + `}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseImport([]byte(tc.json))
			if tc.named == "" {
				require.NoError(t, err)
				require.Len(t, cfg.Groups, 1)
				return
			}
			require.ErrorIs(t, err, ErrBadImport)
			require.Contains(t, err.Error(), "group "+tc.named)
		})
	}
}

func TestSameJSON(t *testing.T) {
	require.True(t, sameJSON([]byte(`{"a":"x & y","b":1}`), []byte(`{ "b":1, "a":"x \u0026 y" }`)))
	require.False(t, sameJSON([]byte(`{"a":"x & y"}`), []byte(`{"a":"x &amp; y"}`)))
	require.False(t, sameJSON([]byte(`{"a":1}`), []byte(`{"a":1.0}`)))
}
