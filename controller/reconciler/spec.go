package reconciler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// specsOf decodes the stored entries. Entries that do not decode are
// returned in bad, keyed by ID, so one broken entry never hides the others.
func specsOf(cfg sources.Config) (good map[plugin.ID]plugin.Spec, bad map[plugin.ID]error) {
	good = make(map[plugin.ID]plugin.Spec, len(cfg.Groups))
	bad = map[plugin.ID]error{}
	for id, e := range cfg.Groups {
		var spec plugin.Spec
		if err := json.Unmarshal(e.Properties, &spec); err != nil {
			bad[id] = fmt.Errorf("stored group %q does not decode: %w", id, err)
			continue
		}
		if spec.ID != id {
			bad[id] = fmt.Errorf("stored group %q holds a spec with ID %q", id, spec.ID)
			continue
		}
		good[id] = spec
	}
	return good, bad
}

// sortedSpecs lists specs by ID; nil when empty (wire: "Groups":null).
func sortedSpecs(m map[plugin.ID]plugin.Spec) []plugin.Spec {
	if len(m) == 0 {
		return nil
	}
	out := make([]plugin.Spec, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// sameProperties compares two property documents semantically: key order,
// whitespace and object members whose value is null do not matter. The
// original group plugin echoes specs with an added "LogicalIDs":null.
func sameProperties(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, errA := decodeLoose(a)
	vb, errB := decodeLoose(b)
	if errA != nil || errB != nil {
		return false
	}
	return reflect.DeepEqual(dropNulls(va), dropNulls(vb))
}

func decodeLoose(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func dropNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if x == nil {
				continue
			}
			out[k] = dropNulls(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = dropNulls(x)
		}
		return out
	case json.Number:
		// 2 and 2.0 are the same number.
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	default:
		return v
	}
}
