package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/infrakit-manager/manager/plugin"
)

// maxSpecBytes bounds a spec file (and standard input).
const maxSpecBytes = 16 << 20

// specShape names the expected document in errors.
const specShape = `{"ID":…,"Properties":…}`

// readSpec reads a group spec from the file name, or from stdin when name is
// "-". The document must be one JSON object with at most the fields ID and
// Properties; an empty ID is left for the plugin to reject.
func readSpec(name string, stdin io.Reader) (plugin.Spec, error) {
	var (
		data []byte
		err  error
	)
	if name == "-" {
		name = "standard input"
		data, err = io.ReadAll(io.LimitReader(stdin, maxSpecBytes+1))
	} else {
		var f *os.File
		if f, err = os.Open(name); err == nil {
			data, err = io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
			_ = f.Close()
		}
	}
	if err != nil {
		return plugin.Spec{}, fmt.Errorf("read group spec: %w", err)
	}
	if len(data) > maxSpecBytes {
		return plugin.Spec{}, fmt.Errorf("group spec in %s is larger than %d bytes", name, maxSpecBytes)
	}
	spec, err := parseSpec(data)
	if err != nil {
		return plugin.Spec{}, fmt.Errorf("invalid group spec in %s: want %s: %w", name, specShape, err)
	}
	return spec, nil
}

func parseSpec(data []byte) (plugin.Spec, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return plugin.Spec{}, errors.New("empty document")
	}
	if trimmed[0] != '{' {
		return plugin.Spec{}, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var spec plugin.Spec
	if err := dec.Decode(&spec); err != nil {
		return plugin.Spec{}, at(data, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		rest := data[end:]
		line, col := lineCol(data, end+int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n"))))
		return plugin.Spec{}, fmt.Errorf("line %d, column %d: unexpected data after the JSON object", line, col)
	}
	return spec, nil
}

// at prefixes a JSON decoding error with the line and column it happened at.
func at(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &syn):
		off = syn.Offset - 1 // Offset counts the offending byte
	case errors.As(err, &typ):
		off = typ.Offset - 1
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(bytes.TrimRight(data, " \t\r\n")))
	}
	if off < 0 {
		return err
	}
	line, col := lineCol(data, off)
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return bytes.Count(before, []byte("\n")) + 1, int(off) - bytes.LastIndexByte(before, '\n')
}
