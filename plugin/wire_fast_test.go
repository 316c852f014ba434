package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// fastCorpus holds request bodies and params of the shapes the fast paths
// take and of shapes they must leave to encoding/json.
var fastCorpus = []string{
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"g1","Properties":{"Allocation":{"Size":1}}},"Pretend":false},"id":42}`,
	` { "jsonrpc" : "2.0" , "method":"Group.CommitGroup" ,"params": {"Pretend":true, "Spec" : {"Properties":null,"ID":"a b"}} , "id":"x" } `,
	`{"jsonrpc":"2.0","method":"Group.FreeGroup","params":{"ID":"g"},"id":-7}`,
	`{"method":"Group.CommitGroup","params":[{"Spec":{"ID":"g"}}],"id":null}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"g\u00e9"},"Pretend":false},"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"spec":{"id":"g"},"pretend":true},"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"g"},"Spec":{"ID":"h"}},"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":7},"Pretend":false},"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":null,"Pretend":null},"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"g","Properties":[1,{"a":"}"}]},"Other":1},"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"g","Properties":"x\"y"},"Pretend":false},"id":1e3}`,
	`{"JSONRPC":"2.0","Method":"Group.CommitGroup","params":{},"ID":1}`,
	`{"jsonrpc":"2.0","jsonrpc":"1.0","method":"Group.CommitGroup","id":1}`,
	`{"jsonrpc":2,"method":["x"],"id":1}`,
	`{"jsonrpc":"2.0","method":"Group.Commit\u0047roup","id":1}`,
	`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"g","Properties":{}},"Pretend":false},"id":{"a":[1,2]}}`,
	`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":"<&>"}`,
	`{}`,
	`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9}`,
}

// FuzzFastPathsAreGeneral: whatever the fast paths take, they decode as
// encoding/json does; the corpus shows they take the common shapes.
func FuzzFastPathsAreGeneral(f *testing.F) {
	for _, s := range fastCorpus {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"jsonrpc":"2.0","result":{"Details":"Managing 1 instances"},"id":1}` + "\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastRequest(t, body)
		checkSmallAnswer(t, body)
		checkEncodeParams(t, CommitGroupRequest{Spec: Spec{ID: ID(body), Properties: body}})
	})
}

func checkFastRequest(t *testing.T, body []byte) bool {
	t.Helper()
	if !json.Valid(body) {
		return false
	}
	took := false
	if fast, ok := parseRequestFast(body); ok {
		took = true
		general, werr := parseObject(body)
		require.Nil(t, werr)
		require.Equal(t, fmt.Sprintf("%q %q %v %q %q", general.Version, general.Method, general.badMethod, general.Params, general.ID),
			fmt.Sprintf("%q %q %v %q %q", fast.Version, fast.Method, fast.badMethod, fast.Params, fast.ID), "body %s", body)
		require.Equal(t, general.ID == nil, fast.ID == nil)
		require.Equal(t, general.Params == nil, fast.Params == nil)
	}
	var fastP CommitGroupRequest
	if commitParamsFast(body, &fastP) {
		took = true
		var general CommitGroupRequest
		require.NoError(t, decodeParamsGeneral(body, &general), "params %s", body)
		require.Equal(t, general, fastP, "params %s", body)
	}
	return took
}

func TestFastPathsTakeCommonShapes(t *testing.T) {
	taken := 0
	for _, s := range fastCorpus {
		if checkFastRequest(t, []byte(s)) {
			taken++
		}
		var req rawRequest
		if json.Unmarshal([]byte(s), &req) == nil && req.Params != nil && json.Valid(req.Params) {
			if checkFastRequest(t, req.Params) {
				taken++
			}
		}
	}
	require.Greater(t, taken, 5)
	req, ok := parseRequestFast([]byte(fastCorpus[0]))
	require.True(t, ok)
	var p CommitGroupRequest
	require.True(t, commitParamsFast(req.Params, &p))
	require.Equal(t, CommitGroupRequest{Spec: Spec{ID: "g1", Properties: json.RawMessage(`{"Allocation":{"Size":1}}`)}}, p)
}

func TestSmallResponseIsEncodeResponse(t *testing.T) {
	ids := []string{"", "42", "-7", `"abc"`, "null", "1e3", `"a b"`, `"<"`, `{"a":1}`, `[1, 2]`}
	results := []any{
		CommitGroupResponse{Details: "Managing 1 instances"}, CommitGroupResponse{},
		CommitGroupResponse{Details: "a<b"}, CommitGroupResponse{Details: "é"}, CommitGroupResponse{Details: "q\"uote"},
		OKResponse{OK: true}, OKResponse{}, ImplementsResponse{APIs: []InterfaceSpec{GroupInterface}},
	}
	fastTaken := 0
	for _, id := range ids {
		var raw json.RawMessage
		if id != "" {
			raw = json.RawMessage(id)
		}
		for _, r := range results {
			b, ok := appendSmallResponse(nil, raw, r)
			if !ok {
				continue
			}
			fastTaken++
			require.Equal(t, string(encodeResponse(raw, r, nil)), string(b), "id %s result %#v", id, r)
		}
	}
	require.Greater(t, fastTaken, 10)
}

func TestSmallAnswerIsDecodeWhole(t *testing.T) {
	answers := []string{
		`{"jsonrpc":"2.0","result":{"Details":"Managing 1 instances"},"id":1}` + "\n",
		`{"result":{"Details":""},"id":"x","jsonrpc":"2.0"}`,
		`{"jsonrpc":"2.0","result":{"details":"lower"},"id":1}`,
		`{"jsonrpc":"2.0","result":{"Details":"a\u003cb"},"id":1}`,
		`{"jsonrpc":"2.0","result":{"Details":7},"id":1}`,
		`{"jsonrpc":"2.0","result":{"Details":"x","Other":1},"id":1}`,
		`{"jsonrpc":"2.0","result":null,"id":1}`,
		`{"jsonrpc":"2.0","id":1}`,
		`{"jsonrpc":"2.0","result":{"OK":true},"id":1}`,
		`{"jsonrpc":"2.0","result":[1],"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":-32000,"message":"boom","data":null},"id":1}`,
		`{"jsonrpc":"2.0","Result":{"Details":"x"},"id":1}`,
		`{"jsonrpc":"2.0","result":{"Details":"x"},"result":{"Details":"y"},"id":1}`,
		`{"jsonrpc":"2.0","result":{"Details":"x"},"id":1} {}`,
		`{"jsonrpc":"2.0","result":{"Details":"x"}`,
		``,
	}
	fastTaken := 0
	for _, a := range answers {
		fastTaken += checkSmallAnswer(t, []byte(a))
	}
	require.Greater(t, fastTaken, 10)
}

// checkSmallAnswer compares decodeSmallAnswer with decodeStream wherever
// the former takes the answer, and says how many times it did.
func checkSmallAnswer(t *testing.T, a []byte) int {
	t.Helper()
	taken := 0
	for _, mk := range []func() any{
		func() any { return new(CommitGroupResponse) },
		func() any { return new(OKResponse) },
		func() any { return nil },
	} {
		fast, general := mk(), mk()
		done, ferr := decodeSmallAnswer("Group.CommitGroup", a, fast)
		if !done {
			continue
		}
		taken++
		gerr := decodeStream("Group.CommitGroup", bytes.NewReader(a), general, func(err error) error { return err })
		require.Equal(t, fmt.Sprint(gerr), fmt.Sprint(ferr), "answer %s", a)
		require.Equal(t, errors.Is(gerr, ErrNullResult), errors.Is(ferr, ErrNullResult))
		require.Equal(t, general, fast, "answer %s", a)
	}
	return taken
}
