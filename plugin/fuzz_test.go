package plugin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzServeRequest feeds arbitrary bodies to the handler and checks that it
// never panics and always answers HTTP 200 with either an empty body or one
// well-formed JSON-RPC response object followed by "\n".
func FuzzServeRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "wire", "*.request"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed fixtures: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		_, body, _ := strings.Cut(string(raw), "\n\n")
		f.Add([]byte(strings.TrimSuffix(body, "\n")))
	}
	for _, s := range []string{`[]`, `[{"jsonrpc":"2.0"}]`, `null`, `{"id":null}`, `{"jsonrpc":"2.0","method":"Group.FreeGroup","params":[null],"id":1}`,
		`{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":"x","Properties":[1,{"a":null}]}},"id":-0.5e3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		g := newFakeGroup()
		seedCattle(g)
		h := NewHandler(g, serverOpts(func(o *ServerOptions) { o.MaxBodyBytes = 1 << 16 }))
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		out := rec.Body.Bytes()
		if len(out) == 0 {
			return
		}
		if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != 1 {
			t.Fatalf("response is not one line: %q", out)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(out, &members); err != nil {
			t.Fatalf("invalid response %q: %v", out, err)
		}
		_, hasResult := members["result"]
		_, hasError := members["error"]
		_, hasID := members["id"]
		if string(members["jsonrpc"]) != `"2.0"` || !hasID || hasResult == hasError || len(members) != 3 {
			t.Fatalf("malformed response %q", out)
		}
		if hasError {
			var e struct {
				Code    *int
				Message *string
				Data    json.RawMessage
			}
			dec := json.NewDecoder(bytes.NewReader(members["error"]))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil || e.Code == nil || e.Message == nil {
				t.Fatalf("malformed error object %q: %v", out, err)
			}
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
	})
}
