package etcd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// ErrBadImport: a file to import holds a group ID that cannot be stored as
// given (empty, not valid UTF-8, a lone surrogate escape, a duplicate, or a
// key that differs from its spec's ID). Nothing was written.
var ErrBadImport = errors.New("refused")

// ParseImport decodes a global.config for Import strictly: unlike a plain
// JSON decode, which replaces invalid UTF-8 and lone surrogates by U+FFFD
// (merging IDs that differ only there) and lets the last duplicate win, it
// refuses every such group, naming each, before anything is written.
func ParseImport(data []byte) (sources.Config, error) {
	cfg, err := sources.DecodeConfig(data)
	if err != nil {
		return sources.Config{}, err
	}
	var top struct{ Groups json.RawMessage }
	if err := json.Unmarshal(data, &top); err != nil || len(top.Groups) == 0 || string(top.Groups) == "null" {
		return cfg, nil // empty: DecodeConfig accepted it
	}
	raw := top.Groups
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return sources.Config{}, fmt.Errorf("%w: Groups: %v", sources.ErrCorrupt, err)
	}
	seen := map[string]bool{}
	var errs []error
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return sources.Config{}, fmt.Errorf("%w: Groups: %v", sources.ErrCorrupt, err)
		}
		rawKey := raw[start:dec.InputOffset()]
		rawKey = rawKey[bytes.IndexByte(rawKey, '"'):]
		key, _ := tok.(string)
		var e sources.Entry
		if err := dec.Decode(&e); err != nil {
			return sources.Config{}, fmt.Errorf("%w: group %s: %v", sources.ErrCorrupt, rawKey, err)
		}
		if err := checkImportKey(rawKey, key, e, seen); err != nil {
			errs = append(errs, fmt.Errorf("%w: group %s: %v", ErrBadImport, rawKey, err))
		}
		seen[key] = true
	}
	if len(errs) > 0 {
		return sources.Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// checkImportKey judges one group: rawKey as written (quoted), key decoded.
func checkImportKey(rawKey []byte, key string, e sources.Entry, seen map[string]bool) error {
	switch {
	case key == "":
		return errors.New("empty ID")
	case !utf8.Valid(rawKey):
		return errors.New("ID is not valid UTF-8")
	case loneSurrogate(rawKey):
		return errors.New("ID holds a lone UTF-16 surrogate escape")
	case seen[key]:
		return errors.New("duplicate ID (a second entry for the same group)")
	}
	var spec plugin.Spec
	if err := json.Unmarshal(e.Properties, &spec); err != nil {
		return fmt.Errorf("properties are not a group spec: %v", err)
	}
	if string(spec.ID) != key {
		return fmt.Errorf("key differs from the spec's ID %s", strconv.Quote(string(spec.ID)))
	}
	return nil
}

// loneSurrogate reports a \uD800-\uDFFF escape in a JSON string that is not
// a high surrogate followed at once by a low one.
func loneSurrogate(s []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(s[i+2:i+6]), 16, 16)
		return rune(v), err == nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 < len(s) && s[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash
			continue
		}
		r, ok := hex(i)
		if !ok {
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			lo, ok := hex(i + 6)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}
