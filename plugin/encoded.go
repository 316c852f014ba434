package plugin

import (
	"context"
	"encoding/json"
)

// EncodedInspector is a Group that keeps its InspectGroups answer encoded
// (the manager, whose answer changes only when the store does): the server
// writes those bytes as they are instead of encoding every spec per call.
type EncodedInspector interface {
	// InspectGroupsEncoded returns what InspectGroups would, encoded.
	InspectGroupsEncoded(ctx context.Context) (EncodedSpecs, error)
}

// EncodedSpecs is the Groups array of an InspectGroups answer exactly as
// json.Marshal encodes the []Spec (compact, HTML characters escaped); empty
// means no groups (answered as null, like a nil slice).
type EncodedSpecs []byte

// EncodeSpecs encodes specs for EncodedInspector.
func EncodeSpecs(specs []Spec) (EncodedSpecs, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	return json.Marshal(specs)
}

// encodedChunk is the most written in one write of an encoded answer, so
// that the stall deadline is renewed while a slow client reads.
const encodedChunk = 64 << 10

// writeEncodedGroups writes {"jsonrpc":"2.0","result":{"Groups":…},"id":…}\n
// around enc, the same bytes encodeResponse would make.
func writeEncodedGroups(w stallWriter, id json.RawMessage, enc EncodedSpecs) error {
	if id == nil {
		id = json.RawMessage("null")
	}
	idJSON, err := json.Marshal(id)
	if err != nil {
		return err
	}
	head := []byte(`{"jsonrpc":"2.0","result":{"Groups":`)
	tail := append(append([]byte(`},"id":`), idJSON...), "}\n"...)
	setJSONHeaders(w, len(head)+len(enc)+len(tail))
	if _, err := w.Write(head); err != nil {
		return err
	}
	for rest := []byte(enc); len(rest) > 0; {
		n := min(len(rest), encodedChunk)
		if _, err := w.Write(rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	_, err = w.Write(tail)
	return err
}
