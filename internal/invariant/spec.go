package invariant

import (
	"encoding/json"
	"strings"

	"github.com/infrakit-manager/manager/plugin"
)

// GroupSpec is the spec the simulator and the chaos run commit: a group
// whose version mark is version. extra adds a field a normalising plugin
// drops, so its echo differs from what was stored.
func GroupSpec(id, version string, extra bool) plugin.Spec {
	props := map[string]any{
		"Allocation": map[string]any{"Size": 1},
		"Instance":   map[string]any{"Plugin": "instance-sim", "Properties": map[string]any{"Version": version}},
		"Flavor":     map[string]any{"Plugin": "flavor-vanilla", "Properties": map[string]any{"Init": []string{"true"}}},
	}
	if extra {
		props["Comment"] = "dropped by a normalising plugin"
	}
	raw, err := json.Marshal(props)
	if err != nil { // maps of strings and numbers always encode
		panic(err)
	}
	return plugin.Spec{ID: plugin.ID(id), Properties: raw}
}

// VersionOf reads the version mark of a group's properties ("" when there
// is none).
func VersionOf(props json.RawMessage) string {
	var p struct {
		Instance struct {
			Properties struct{ Version string }
		}
	}
	if json.Unmarshal(props, &p) != nil {
		return ""
	}
	return p.Instance.Properties.Version
}

// Classify tells what a client can tell from a write's answer: acked when it
// succeeded or says the store holds the change; ambiguous otherwise (even
// "not leader" may follow a write whose answer was lost).
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return Acked
	case strings.Contains(err.Error(), "is stored"), strings.Contains(err.Error(), "removed from the store"):
		return Acked
	}
	return Ambiguous
}
