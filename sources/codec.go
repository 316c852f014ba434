package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/infrakit-manager/manager/plugin"
)

// EncodeConfig renders cfg in the original's stored format:
// json.MarshalIndent with prefix "  " and indent "  ", keys sorted, no
// trailing newline. An empty config is written as {"Groups": {}}. Pending
// destroys (Config.Destroying) follow as "Destroying", only when there are any.
func EncodeConfig(cfg Config) ([]byte, error) {
	groups := cfg.Groups
	if groups == nil {
		groups = map[plugin.ID]Entry{}
	}
	for _, m := range []map[plugin.ID]Entry{groups, cfg.Destroying} {
		for id, e := range m {
			if len(e.Properties) > 0 && !json.Valid(e.Properties) {
				return nil, fmt.Errorf("encode config: group %q: properties are not valid JSON", id)
			}
		}
	}
	out, err := json.MarshalIndent(struct {
		Groups     map[plugin.ID]Entry
		Destroying map[plugin.ID]Entry `json:",omitempty"`
	}{groups, cfg.Destroying}, "  ", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return out, nil
}

// DecodeConfig parses a stored config. Empty or all-blank input is an empty
// config. A syntax or type error is reported with its line and column and
// wraps ErrCorrupt.
func DecodeConfig(data []byte) (Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Config{Groups: map[plugin.ID]Entry{}}, nil
	}
	var raw struct {
		Groups     map[plugin.ID]Entry
		Destroying map[plugin.ID]Entry
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return Config{}, positionError(data, err)
	}
	if dec.More() {
		off := dec.InputOffset()
		line, col := lineCol(data, off)
		return Config{}, fmt.Errorf("%w: trailing data at line %d, column %d", ErrCorrupt, line, col)
	}
	if raw.Groups == nil {
		raw.Groups = map[plugin.ID]Entry{}
	}
	if len(raw.Destroying) == 0 {
		raw.Destroying = nil
	}
	return Config{Groups: raw.Groups, Destroying: raw.Destroying}, nil
}

func positionError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset-1) // Offset counts the offending byte
		return fmt.Errorf("%w: line %d, column %d: %v", ErrCorrupt, line, col, err)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset-1)
		return fmt.Errorf("%w: line %d, column %d: %v", ErrCorrupt, line, col, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		line, col := lineCol(data, int64(len(data)))
		return fmt.Errorf("%w: line %d, column %d: unexpected end of JSON input", ErrCorrupt, line, col)
	default:
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
