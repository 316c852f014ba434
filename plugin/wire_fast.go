package plugin

import (
	"encoding/json"
	"sync"
)

// The fast paths below serve the common shapes of a takeover's calls
// (a Group.CommitGroup request, its small answer) without encoding/json's
// reflection, byte-identical to the general path: each takes its input only
// when it can tell what json.Unmarshal or json.Encoder would make of it
// (exact lower-case keys, each once; strings of plain ASCII), and leaves
// anything else to the general path, errors included.

// parseRequestFast parses a valid JSON request body whose members are
// exactly jsonrpc, method, params and id (each at most once), jsonrpc and
// method plain strings. ok is false for anything else.
func parseRequestFast(body []byte) (*request, bool) {
	var buf [maxFastMembers]member
	ms, ok := objectMembers(body, buf[:0])
	if !ok {
		return nil, false
	}
	req := &request{}
	var seen [4]bool
	for _, m := range ms {
		var k int
		switch string(m.key) {
		case "jsonrpc":
			k = 0
			if req.Version, ok = internVersion(m.val); !ok {
				return nil, false
			}
		case "method":
			k = 1
			if req.Method, ok = plainString(m.val); !ok {
				return nil, false
			}
		case "params":
			k = 2
			req.Params = m.val
		case "id":
			k = 3
			req.ID = m.val
		default:
			return nil, false
		}
		if seen[k] {
			return nil, false
		}
		seen[k] = true
	}
	return req, true
}

// internVersion is plainString without an allocation for "2.0".
func internVersion(val []byte) (string, bool) {
	if string(val) == `"2.0"` {
		return "2.0", true
	}
	return plainString(val)
}

// commitParamsFast decodes valid JSON params {"Spec":{"ID":…,"Properties":…},"Pretend":…}
// (members in any order, each at most once; ID a plain string, Pretend a
// boolean) into p, as json.Unmarshal would. ok is false for anything else,
// and p is then untouched.
func commitParamsFast(raw []byte, p *CommitGroupRequest) bool {
	if len(raw) == 0 || raw[0] != '{' { // as decodeParams tells objects
		return false
	}
	var buf [maxFastMembers]member
	ms, ok := objectMembers(raw, buf[:0])
	if !ok {
		return false
	}
	var out CommitGroupRequest
	var seenSpec, seenPretend bool
	for _, m := range ms {
		switch string(m.key) {
		case "Spec":
			if seenSpec || !specFast(m.val, &out.Spec) {
				return false
			}
			seenSpec = true
		case "Pretend":
			if seenPretend {
				return false
			}
			seenPretend = true
			switch string(m.val) {
			case "true":
				out.Pretend = true
			case "false":
			default:
				return false
			}
		default:
			return false
		}
	}
	*p = out
	return true
}

// specFast decodes a valid JSON object {"ID":…,"Properties":…} into s.
func specFast(val []byte, s *Spec) bool {
	var buf [maxFastMembers]member
	ms, ok := objectMembers(val, buf[:0])
	if !ok {
		return false
	}
	var seenID, seenProps bool
	for _, m := range ms {
		switch string(m.key) {
		case "ID":
			id, ok := plainString(m.val)
			if seenID || !ok {
				return false
			}
			seenID, s.ID = true, ID(id)
		case "Properties":
			if seenProps {
				return false
			}
			seenProps, s.Properties = true, json.RawMessage(m.val)
		default:
			return false
		}
	}
	return true
}

// responseBufs holds the buffers small answers are assembled in.
var responseBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendSmallResponse appends encodeResponse(id, result, nil) for the
// answers of CommitGroup, FreeGroup and DestroyGroup when it can write them
// directly: an id of plain characters and a Details string of plain ASCII.
// ok is false otherwise.
func appendSmallResponse(b []byte, id json.RawMessage, result any) ([]byte, bool) {
	if !plainID(id) {
		return b, false
	}
	b = append(b, `{"jsonrpc":"2.0","result":`...)
	switch r := result.(type) {
	case CommitGroupResponse:
		if !plainJSONString(r.Details) {
			return b, false
		}
		b = append(b, `{"Details":"`...)
		b = append(b, r.Details...)
		b = append(b, `"}`...)
	case OKResponse:
		if r.OK {
			b = append(b, `{"OK":true}`...)
		} else {
			b = append(b, `{"OK":false}`...)
		}
	default:
		return b, false
	}
	b = append(b, `,"id":`...)
	if id == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, id...)
	}
	return append(b, "}\n"...), true
}

// plainID reports whether a valid JSON id is written as it is by the
// encoder: compact, nothing to escape (numbers, null, simple strings).
func plainID(id json.RawMessage) bool {
	for _, c := range id {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z',
			c == '-', c == '+', c == '.', c == '"', c == '_':
		default:
			return false
		}
	}
	return true
}

// plainJSONString reports whether json.Marshal writes s as "s": printable
// ASCII without the characters it escapes (quote, backslash, <, >, &).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
