package plugin

import (
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
// a commit whose ID and Properties the encoder would copy as they are
// (plain ASCII ID; Properties valid, compact and free of the characters it
// escapes), which is what a takeover sends.
func encodeParams(params any) ([]byte, error) {
	if p, ok := params.(CommitGroupRequest); ok {
		if b, ok := appendCommitParams(nil, p); ok {
			return b, nil
		}
	}
	return json.Marshal(params)
}

// appendCommitParams appends json.Marshal(p) when it can write it
// directly; ok is false otherwise.
func appendCommitParams(b []byte, p CommitGroupRequest) ([]byte, bool) {
	props := p.Spec.Properties
	if !plainJSONString(string(p.Spec.ID)) || (props != nil && !compactPlainJSON(props)) {
		return b, false
	}
	if props == nil {
		props = json.RawMessage("null")
	}
	b = slices.Grow(b, len(p.Spec.ID)+len(props)+48)
	b = append(b, `{"Spec":{"ID":"`...)
	b = append(b, p.Spec.ID...)
	b = append(b, `","Properties":`...)
	b = append(b, props...)
	b = append(b, `},"Pretend":`...)
	b = strconv.AppendBool(b, p.Pretend)
	return append(b, '}'), true
}

// compactPlainJSON reports whether the encoder copies raw as it is: valid
// JSON, printable ASCII without white space (so nothing to compact) nor
// the characters it escapes (<, >, &).
func compactPlainJSON(raw []byte) bool {
	for _, c := range raw {
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return json.Valid(raw)
}
