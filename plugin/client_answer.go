package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// maxSmallAnswer bounds the answers decodeAnswer reads whole into a pooled
// buffer; larger ones (and every InspectGroups answer) are decoded as a
// stream.
const maxSmallAnswer = 64 << 10

// answerBufs holds the buffers small answers are read into.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// decodeAnswer decodes a call's answer into result: a small answer of the
// common shape (a result, no error) is read whole and decoded directly;
// every other answer, and any small one the direct way does not take, goes
// through decodeStream, which sees the same bytes, so the errors are its.
func decodeAnswer(method string, resp *http.Response, result any, malformed func(error) error) error {
	if _, inspect := result.(*InspectGroupsResponse); inspect || resp.ContentLength <= 0 || resp.ContentLength > maxSmallAnswer {
		return decodeStream(method, resp.Body, result, malformed)
	}
	bp := answerBufs.Get().(*[]byte)
	defer answerBufs.Put(bp)
	b, err := readToEOF(resp.Body, (*bp)[:0])
	*bp = b[:0]
	if err == nil {
		if done, derr := decodeSmallAnswer(method, b, result); done {
			return derr
		}
	}
	return decodeStream(method, io.MultiReader(bytes.NewReader(b), resp.Body), result, malformed)
}

// readToEOF appends all of r to b. Reading to io.EOF (not just the
// Content-Length) lets net/http keep the connection alive.
func readToEOF(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// decodeSmallAnswer decodes a whole answer {"jsonrpc":…,"result":…,"id":…}
// as decodeWhole would. done is false when the answer is not of that shape
// (not valid JSON, an error member, keys in other cases), for decodeStream
// to answer.
func decodeSmallAnswer(method string, b []byte, result any) (done bool, err error) {
	if !json.Valid(b) {
		return false, nil
	}
	var buf [maxFastMembers]member
	ms, ok := objectMembers(b, buf[:0])
	if !ok {
		return false, nil
	}
	var raw []byte
	for _, m := range ms {
		switch string(m.key) {
		case "jsonrpc", "id":
		case "result":
			if raw != nil {
				return false, nil
			}
			raw = m.val
		default:
			return false, nil
		}
	}
	if raw == nil || string(raw) == "null" {
		return true, ErrNullResult
	}
	if result == nil {
		return true, nil
	}
	if r, ok := result.(*CommitGroupResponse); ok && commitAnswerFast(raw, r) {
		return true, nil
	}
	if err := json.Unmarshal(raw, result); err != nil {
		return true, fmt.Errorf("decode %s result: %w", method, err)
	}
	return true, nil
}

// commitAnswerFast decodes a valid JSON result {"Details":"…"} (plain
// string, at most once) into r. ok is false for anything else, and r is
// then untouched.
func commitAnswerFast(raw []byte, r *CommitGroupResponse) bool {
	var buf [maxFastMembers]member
	ms, ok := objectMembers(raw, buf[:0])
	if !ok || len(ms) > 1 {
		return false
	}
	for _, m := range ms {
		s, ok := plainString(m.val)
		if string(m.key) != "Details" || !ok {
			return false
		}
		r.Details = s
	}
	return true
}
