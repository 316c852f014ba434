package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// errTooLarge: a response body went past maxResponseBytes.
var errTooLarge = fmt.Errorf("response body exceeds %d bytes", maxResponseBytes)

// capReader reads at most maxResponseBytes; reading more fails with
// errTooLarge, so nothing past the cap is ever buffered.
type capReader struct {
	r     io.Reader
	total int64
	over  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if left := int64(maxResponseBytes) + 1 - c.total; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.r.Read(p)
	c.total += int64(n)
	if c.total > maxResponseBytes {
		c.over = true
		return n, errTooLarge
	}
	return n, err
}

// decodeStream decodes a JSON-RPC response from body into result, as a
// stream: the body is never held whole. An InspectGroups answer (the one
// that grows with the groups) is decoded one group at a time, so the
// memory it takes is about the groups decoded, plus a buffer the size of
// one group. Errors are those of decodeResponse; malformed bodies (and
// bodies past the cap) go through malformed.
func decodeStream(method string, body io.Reader, result any, malformed func(error) error) error {
	cr := &capReader{r: body}
	dec := json.NewDecoder(cr)
	bad := func(err error) error {
		switch {
		case cr.over:
			return malformed(errTooLarge)
		case errors.Is(err, io.EOF) && cr.total == 0:
			return malformed(errors.New("empty response body"))
		}
		return malformed(fmt.Errorf("invalid JSON-RPC response: %w", err))
	}
	if _, ok := result.(*InspectGroupsResponse); !ok {
		return decodeWhole(method, dec, result, bad)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return bad(err)
	}
	var (
		rpcErr    *RPCError
		hasResult bool
		resultErr error
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "result"):
			has, rerr, err := decodeResult(dec, result)
			if err != nil {
				return bad(err)
			}
			hasResult, resultErr = has, rerr
		case strings.EqualFold(key, "error"):
			var e *wireRPCError
			if err := dec.Decode(&e); err != nil {
				return bad(err)
			}
			rpcErr = nil
			if e != nil {
				rpcErr = e.rpcError()
			}
		default:
			if err := skipValue(dec); err != nil {
				return bad(err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the response object")
		}
		return bad(err)
	}
	switch {
	case rpcErr != nil:
		return rpcErr
	case !hasResult:
		return ErrNullResult
	case resultErr != nil:
		return fmt.Errorf("decode %s result: %w", method, resultErr)
	}
	return nil
}

// clientResponse is a JSON-RPC answer whose result is decoded later.
type clientResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *wireRPCError   `json:"error"`
}

// wireRPCError is a JSON-RPC error object as answered.
type wireRPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// rpcError is the answer's error as an *RPCError (Data kept unless null).
func (e *wireRPCError) rpcError() *RPCError {
	rerr := &RPCError{Code: e.Code, Message: e.Message}
	if d := e.Data; len(d) > 0 && string(d) != "null" {
		rerr.Data = d
	}
	return rerr
}

// decodeWhole decodes a small answer (every one but InspectGroups) as one
// value: the decoder's buffer, bounded by the cap, holds it once.
func decodeWhole(method string, dec *json.Decoder, result any, bad func(error) error) error {
	var resp clientResponse
	if err := dec.Decode(&resp); err != nil {
		return bad(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the response object")
		}
		return bad(err)
	}
	if resp.Error != nil {
		return resp.Error.rpcError()
	}
	if len(resp.Result) == 0 || string(resp.Result) == "null" {
		return ErrNullResult
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("decode %s result: %w", method, err)
	}
	return nil
}

// decodeResult decodes the "result" member into result. has is false for
// a null result; rerr is a result that does not fit result's type; err a
// body that is not JSON.
func decodeResult(dec *json.Decoder, result any) (has bool, rerr, err error) {
	if groups, ok := result.(*InspectGroupsResponse); ok {
		return decodeGroups(dec, groups)
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return false, nil, err
	}
	if string(raw) == "null" {
		return false, nil, nil
	}
	if result != nil {
		rerr = json.Unmarshal(raw, result)
	}
	return true, rerr, nil
}

// decodeGroups decodes an InspectGroups result one group at a time.
func decodeGroups(dec *json.Decoder, out *InspectGroupsResponse) (has bool, rerr, err error) {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return false, nil, err
	case tok == nil:
		return false, nil, nil
	case tok != json.Delim('{'):
		if err := skipRest(dec, tok); err != nil {
			return false, nil, err
		}
		return true, fmt.Errorf("%v is not an object", tok), nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false, nil, err
		}
		if key, _ := tok.(string); !strings.EqualFold(key, "Groups") {
			if err := skipValue(dec); err != nil {
				return false, nil, err
			}
			continue
		}
		out.Groups = nil
		tok, err = dec.Token()
		switch {
		case err != nil:
			return false, nil, err
		case tok == nil:
			continue
		case tok != json.Delim('['):
			if err := skipRest(dec, tok); err != nil {
				return false, nil, err
			}
			rerr = fmt.Errorf("Groups: %v is not an array", tok)
			continue
		}
		for dec.More() {
			var s Spec
			if err := dec.Decode(&s); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return false, nil, err
				}
				rerr = err
			}
			out.Groups = append(out.Groups, s)
		}
		if err := expectDelim(dec, ']'); err != nil {
			return false, nil, err
		}
	}
	return true, rerr, expectDelim(dec, '}')
}

// expectDelim reads one token, which must be d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("got %v, want %v", tok, d)
	}
	return nil
}

// skipValue reads past one value without keeping it.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return skipRest(dec, tok)
}

// skipRest reads past the rest of a value whose first token was tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			return err
		}
	}
}
