package plugin

import (
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// endlessGroups is an InspectGroups answer that never ends: it counts the
// bytes read from it.
type endlessGroups struct {
	head string
	n    int
	pend []byte
	read int64
}

func (e *endlessGroups) Read(p []byte) (int, error) {
	for len(e.pend) < len(p) {
		if e.head == "" {
			e.head = `{"jsonrpc":"2.0","id":1,"result":{"Groups":[`
			e.pend = append(e.pend, e.head...)
		}
		e.pend = fmt.Appendf(e.pend, `{"ID":"g%08d","Properties":{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":{"Note":"%0200d"}}}},`, e.n, e.n)
		e.n++
	}
	n := copy(p, e.pend)
	e.pend = e.pend[n:]
	e.read += int64(n)
	return n, nil
}

// TestDecodeStreamCapsMemory: an answer past the cap fails with the cap's
// error and is never read past the cap; the groups decoded until then take
// about the cap (one copy of what was read: the body is not held besides).
func TestDecodeStreamCapsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 64 MiB")
	}
	body := &endlessGroups{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var out InspectGroupsResponse
	err := decodeStream("Group.InspectGroups", body, &out, func(err error) error { return err })
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, errTooLarge)
	require.LessOrEqual(t, body.read, int64(maxResponseBytes)+1, "read past the cap")
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("scale: an answer past the %d MiB cap: %d groups decoded, holding %.1f MiB", maxResponseBytes>>20, len(out.Groups), float64(held)/(1<<20))
	require.Less(t, held, int64(maxResponseBytes)*5/4, "decoding holds more than the groups read")
	runtime.KeepAlive(out)
}

func TestDecodeStreamGroups(t *testing.T) {
	tests := []struct {
		name, body string
		want       []Spec
		wantErr    string
	}{
		{"groups", `{"jsonrpc":"2.0","result":{"Groups":[{"ID":"a","Properties":{"x":1}},{"ID":"b"}]},"id":1}`,
			[]Spec{{ID: "a", Properties: []byte(`{"x":1}`)}, {ID: "b"}}, ""},
		{"members in any order, unknown ones skipped", `{"id":1,"extra":[1,{"a":[2]}],"result":{"More":{"x":[1]},"Groups":[{"ID":"a"}]},"jsonrpc":"2.0"}`,
			[]Spec{{ID: "a"}}, ""},
		{"no groups", `{"jsonrpc":"2.0","result":{"Groups":null},"id":1}`, nil, ""},
		{"error wins", `{"jsonrpc":"2.0","result":{"Groups":[]},"error":{"code":-32000,"message":"boom"},"id":1}`, nil, "boom"},
		{"null result", `{"jsonrpc":"2.0","result":null,"id":1}`, nil, "result is null"},
		{"result of the wrong type", `{"jsonrpc":"2.0","result":[1,2],"id":1}`, nil, "decode Group.InspectGroups result"},
		{"a group of the wrong type", `{"jsonrpc":"2.0","result":{"Groups":[{"ID":7}]},"id":1}`, nil, "decode Group.InspectGroups result"},
		{"truncated", `{"jsonrpc":"2.0","result":{"Groups":[{"ID":"a"}`, nil, "invalid JSON-RPC response"},
		{"trailing data", `{"jsonrpc":"2.0","result":{"Groups":[]},"id":1} {}`, nil, "invalid JSON-RPC response"},
		{"empty", ``, nil, "empty response body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out InspectGroupsResponse
			err := decodeResponse("Group.InspectGroups", []byte(tt.body), &out, func(err error) error { return err })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, out.Groups)
		})
	}
}

var _ io.Reader = (*endlessGroups)(nil)
