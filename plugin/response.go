package plugin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// writeResponse answers a call. An InspectGroups result is streamed one spec
// at a time (with its exact Content-Length computed beforehand), so a client
// that reads slowly or not at all pins at most one encoded spec, not a copy
// of the whole store; every other answer is small and written at once. The
// bytes are those of encodeResponse either way.
// Each write must make progress within stall, or the connection is dropped.
func writeResponse(w http.ResponseWriter, stall time.Duration, id json.RawMessage, result any, werr *wireError) error {
	sw := stallWriter{w: w, rc: http.NewResponseController(w), stall: stall}
	if enc, ok := result.(EncodedSpecs); ok && werr == nil {
		return writeEncodedGroups(sw, id, enc)
	}
	if r, ok := result.(InspectGroupsResponse); ok && werr == nil && len(r.Groups) > 0 && streamable(r.Groups) {
		return streamGroups(sw, id, r.Groups)
	}
	if werr == nil {
		bp := responseBufs.Get().(*[]byte)
		defer responseBufs.Put(bp)
		if b, ok := appendSmallResponse((*bp)[:0], id, result); ok {
			*bp = b
			setJSONHeaders(w, len(b))
			_, err := sw.Write(b)
			return err
		}
	}
	body := encodeResponse(id, result, werr)
	setJSONHeaders(w, len(body))
	_, err := sw.Write(body)
	return err
}

// stallWriter sets the connection's write deadline before every write, so
// that a client reading slowly but steadily gets a large answer while one
// that stops reading is dropped (and its answer freed) after stall.
type stallWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (s stallWriter) Header() http.Header { return s.w.Header() }

func (s stallWriter) WriteHeader(code int) { s.w.WriteHeader(code) }

func (s stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.stall)) // unsupported only by test recorders
	return s.w.Write(p)
}

// streamable reports whether every spec encodes (its Properties are JSON);
// if not, encodeResponse answers the encoding error.
func streamable(specs []Spec) bool {
	for _, s := range specs {
		if len(s.Properties) > 0 && !json.Valid(s.Properties) {
			return false
		}
	}
	return true
}

// streamGroups writes {"jsonrpc":"2.0","result":{"Groups":[…]},"id":…}\n.
func streamGroups(w stallWriter, id json.RawMessage, specs []Spec) error {
	if id == nil {
		id = json.RawMessage("null")
	}
	idJSON, err := json.Marshal(id) // compacted and escaped, as the encoder does
	if err != nil {
		return err
	}
	head := []byte(`{"jsonrpc":"2.0","result":{"Groups":[`)
	tail := append(append([]byte(`]},"id":`), idJSON...), "}\n"...)
	size := len(head) + len(tail) + len(specs) - 1
	for _, s := range specs {
		_, sent := SpecSizes(s)
		size += sent
	}
	setJSONHeaders(w, size)
	// Specs are gathered into writes of about encodedChunk: one write (and
	// one renewal of the stall deadline) per spec costs more than encoding
	// it.
	buf := make([]byte, 0, encodedChunk+4096)
	buf = append(buf, head...)
	for i, s := range specs {
		b, err := json.Marshal(s)
		if err != nil {
			return err // streamable said it would not happen; the connection is cut short
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, b...)
		if len(buf) >= encodedChunk {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err = w.Write(append(buf, tail...))
	return err
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// setJSONHeaders sets the answer's headers (the keys are canonical: no
// Set needed) from one backing array, and writes the status.
func setJSONHeaders(w http.ResponseWriter, size int) {
	h := w.Header()
	v := [3]string{"application/json; charset=utf-8", "nosniff", strconv.Itoa(size)}
	h["Content-Type"], h["X-Content-Type-Options"], h["Content-Length"] = v[0:1:1], v[1:2:2], v[2:3:3]
	w.WriteHeader(http.StatusOK)
}

// encodeResponse renders a response object followed by "\n", as the
// original's json.Encoder did (HTML characters escaped, e.g. \u003e). A nil
// id is written as null. A result that cannot be encoded (for example
// invalid raw Properties from the Group) becomes a -32000 error.
func encodeResponse(id json.RawMessage, result any, werr *wireError) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := response{Version: "2.0", Result: result, Error: werr, ID: id}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(resp); err != nil {
		buf.Reset()
		resp = response{Version: "2.0", Error: appError("rpc: cannot encode result: " + err.Error()), ID: id}
		if err := json.NewEncoder(&buf).Encode(resp); err != nil {
			// Only the id could be at fault, and it was parsed from valid JSON.
			return []byte(`{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: cannot encode response","data":null},"id":null}` + "\n")
		}
	}
	return buf.Bytes()
}
