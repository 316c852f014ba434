package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// request is a parsed JSON-RPC request. ID is nil when the request has no id
// member (a notification); it keeps the exact bytes of the id otherwise, so
// that any JSON value (strings, big integers) is echoed verbatim.
type request struct {
	Version   string
	Method    string
	badMethod bool // method was present but not a string
	Params    json.RawMessage
	ID        json.RawMessage
}

// rawRequest accepts any JSON object; members are checked one by one.
type rawRequest struct {
	Version json.RawMessage `json:"jsonrpc"`
	Method  json.RawMessage `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

// echoRequest is the data of a "jsonrpc must be 2.0" error: the request as
// parsed, in the original's member order, with "jsonrpc":"" when it was absent.
type echoRequest struct {
	Version string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	ID      json.RawMessage `json:"id"`
}

// response is a JSON-RPC response; exactly one of Result and Error is set.
type response struct {
	Version string          `json:"jsonrpc"`
	Result  any             `json:"result,omitempty"`
	Error   *wireError      `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

// wireError is a JSON-RPC error object. Data is null unless set.
type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func (e *wireError) Error() string { return e.Message }

func (r *request) echo() echoRequest {
	return echoRequest{Version: r.Version, Method: r.Method, Params: r.Params, ID: r.ID}
}

// parseRequest parses a request body. Bodies whose id cannot be known (not
// JSON, a batch array, not an object) get an error to answer with id null.
func parseRequest(body []byte) (*request, *wireError) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, &wireError{Code: CodeParseError, Message: "parse error: empty request body"}
	}
	if !json.Valid(body) {
		err := json.Unmarshal(body, new(json.RawMessage)) // for its message
		return nil, &wireError{Code: CodeParseError, Message: "parse error: " + err.Error()}
	}
	switch trimmed[0] {
	case '{':
	case '[':
		return nil, &wireError{Code: CodeInvalidRequest, Message: "batch requests are not supported"}
	default:
		return nil, &wireError{Code: CodeInvalidRequest, Message: "request must be a JSON object"}
	}
	if req, ok := parseRequestFast(body); ok {
		return req, nil
	}
	return parseObject(body)
}

// parseObject parses a request body that is a valid JSON object, with
// encoding/json (parseRequestFast's reference).
func parseObject(body []byte) (*request, *wireError) {
	var raw rawRequest
	if err := json.Unmarshal(body, &raw); err != nil { // cannot happen for a valid object
		return nil, &wireError{Code: CodeInvalidRequest, Message: err.Error()}
	}
	req := &request{Params: raw.Params, ID: raw.ID}
	// A jsonrpc member that is not a string counts as absent, as in the original.
	_ = json.Unmarshal(raw.Version, &req.Version)
	if raw.Method != nil {
		if err := json.Unmarshal(raw.Method, &req.Method); err != nil {
			req.badMethod = true
		}
	}
	return req, nil
}

// decodeParams decodes params given as an object or as a one-element array
// holding the object. Absent or null params leave dst at its zero value.
// raw is a member of a request body that passed json.Valid.
func decodeParams(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if p, ok := dst.(*CommitGroupRequest); ok && commitParamsFast(raw, p) {
		return nil
	}
	return decodeParamsGeneral(raw, dst)
}

// decodeParamsGeneral is decodeParams with encoding/json alone (the fast
// paths' reference).
func decodeParamsGeneral(raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var err error
	switch raw[0] {
	case '{':
		err = json.Unmarshal(raw, dst)
	case '[':
		var elems []json.RawMessage
		if err = json.Unmarshal(raw, &elems); err == nil {
			if len(elems) != 1 {
				err = fmt.Errorf("params array must hold exactly one element, got %d", len(elems))
			} else {
				err = json.Unmarshal(elems[0], dst)
			}
		}
	default:
		err = errors.New("params must be an object or a one-element array")
	}
	if err != nil {
		return &wireError{Code: CodeInvalidRequest, Message: err.Error(), Data: raw}
	}
	return nil
}
