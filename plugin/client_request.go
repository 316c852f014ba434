package plugin

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// encodeRequest is json.Marshal of clientRequest{"2.0", method, params, id}
// without encoding params a second time: params is json.Marshal's output
// already (compact, HTML characters escaped), which the envelope's encoder
// would only compact again. The bytes are the same.
func encodeRequest(method string, params json.RawMessage, id int64) ([]byte, error) {
	m, err := json.Marshal(method)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(params)+len(m)+64)
	b = append(b, `{"jsonrpc":"2.0","method":`...)
	b = append(b, m...)
	b = append(b, `,"params":`...)
	b = append(b, params...)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, id, 10)
	return append(b, '}'), nil
}

// encodeParams is json.Marshal(params), written directly for the params of
// a commit whose ID the encoder would copy as it is (plain ASCII) and whose
// Properties hold none of the characters it escapes (<, >, &, U+2028,
// U+2029): it then only compacts them, as json.Compact does. That is what
// a takeover sends (a stored spec, often indented in the store).
func encodeParams(params any) ([]byte, error) {
	if p, ok := params.(CommitGroupRequest); ok {
		if b, ok := appendCommitParams(nil, p); ok {
			return b, nil
		}
	}
	return json.Marshal(params)
}

// appendCommitParams appends json.Marshal(p) when it can write it
// directly; ok is false otherwise (also when Properties are not JSON: the
// encoder's error is then json.Marshal's).
func appendCommitParams(b []byte, p CommitGroupRequest) ([]byte, bool) {
	props := p.Spec.Properties
	if !plainJSONString(string(p.Spec.ID)) || !noHTMLEscapes(props) {
		return b, false
	}
	if props == nil {
		props = json.RawMessage("null")
	}
	buf := bytes.NewBuffer(slices.Grow(b, len(p.Spec.ID)+len(props)+48))
	buf.WriteString(`{"Spec":{"ID":"`)
	buf.WriteString(string(p.Spec.ID))
	buf.WriteString(`","Properties":`)
	if err := json.Compact(buf, props); err != nil {
		return b, false
	}
	buf.WriteString(`},"Pretend":`)
	buf.WriteString(strconv.FormatBool(p.Pretend))
	buf.WriteByte('}')
	return buf.Bytes(), true
}

// noHTMLEscapes reports whether raw holds none of the bytes the encoder
// escapes in HTML mode: <, >, & and the lead byte of U+2028 and U+2029.
func noHTMLEscapes(raw []byte) bool {
	for _, c := range raw {
		if c == '<' || c == '>' || c == '&' || c == 0xe2 {
			return false
		}
	}
	return true
}
