package plugin

import (
	"encoding/json"
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
