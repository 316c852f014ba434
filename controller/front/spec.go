package front

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// validateSpec is the manager's own check before anything is stored. The
// texts match the group plugin's where they overlap.
func validateSpec(spec plugin.Spec) error {
	if spec.ID == "" {
		return fmt.Errorf("%w: Group ID must not be blank", ErrInvalidSpec)
	}
	// JSON, depth, UTF-8 and size as stored ("group %q: properties are not
	// valid JSON", …): checked before the spec is forwarded, stored or joins
	// a batch, so it can never fail the store's encoder.
	if err := plugin.DefaultLimits().CheckSpec(spec); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	return nil
}

// EntryFor turns a spec into its stored form: the whole spec under
// Properties, as the original stored it.
func EntryFor(spec plugin.Spec, pluginName string) (sources.Entry, error) {
	var compact bytes.Buffer
	props := spec.Properties
	if len(props) > 0 {
		if err := json.Compact(&compact, props); err != nil {
			return sources.Entry{}, fmt.Errorf("%w: %v", ErrInvalidSpec, err)
		}
		props = compact.Bytes()
	}
	raw, err := json.Marshal(plugin.Spec{ID: spec.ID, Properties: props})
	if err != nil {
		return sources.Entry{}, fmt.Errorf("%w: %v", ErrInvalidSpec, err)
	}
	return sources.Entry{Plugin: pluginName, Properties: raw}, nil
}
