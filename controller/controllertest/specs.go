package controllertest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Spec is the group spec the controller's tests commit: size instances of
// a file instance with a vanilla flavor.
func Spec(id string, size int) plugin.Spec {
	props, err := json.Marshal(map[string]any{
		"Allocation": map[string]any{"Size": size},
		"Instance":   map[string]any{"Plugin": "instance-file", "Properties": map[string]any{"Note": "v1"}},
		"Flavor":     map[string]any{"Plugin": "flavor-vanilla", "Properties": map[string]any{"Init": []string{"echo hi"}}},
	})
	if err != nil { // maps of strings and numbers always encode
		panic(err)
	}
	return plugin.Spec{ID: plugin.ID(id), Properties: props}
}

// Running lists the IDs down runs.
func Running(t *testing.T, down plugin.Group) []plugin.ID {
	t.Helper()
	specs, err := down.InspectGroups(context.Background())
	require.NoError(t, err)
	var ids []plugin.ID
	for _, s := range specs {
		ids = append(ids, s.ID)
	}
	return ids
}

// Stored lists the IDs store holds (not the pending destroys).
func Stored(t *testing.T, store sources.Store) []plugin.ID {
	t.Helper()
	cfg, _, err := store.Load(context.Background())
	require.NoError(t, err)
	var ids []plugin.ID
	for id := range cfg.Groups {
		ids = append(ids, id)
	}
	return ids
}
