package reconciler

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSameProperties(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"Allocation":{"Size":2}}`, `{"Allocation":{"Size":2,"LogicalIDs":null}}`, true},
		{`{"a":1,"b":2}`, `{ "b": 2, "a": 1.0 }`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":{}}`, `{"a":null}`, false},
		{``, `null`, true},
		{`{`, `{`, true},
		{`{`, `{}`, false},
	}
	for _, c := range cases {
		t.Run(c.a+"~"+c.b, func(t *testing.T) {
			require.Equal(t, c.want, sameProperties(json.RawMessage(c.a), json.RawMessage(c.b)))
		})
	}
}
