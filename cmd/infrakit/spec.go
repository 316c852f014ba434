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
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var spec plugin.Spec
	if err := dec.Decode(&spec); err != nil {
		return plugin.Spec{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return plugin.Spec{}, errors.New("unexpected data after the JSON object")
	}
	return spec, nil
}
