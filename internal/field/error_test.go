package field_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/field"
)

var errSentinel = errors.New("sentinel")

func TestRename(t *testing.T) {
	flags := map[string]string{"RenewInterval": "--poll-interval", "LeaseDuration": "--lease-duration", "Dir": "--store-dir"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"no field error", errors.New("RenewInterval is mentioned"), "RenewInterval is mentioned"},
		{"one field", field.Errorf("RenewInterval", "must be > 0, got %s", "0s"), "--poll-interval must be > 0, got 0s"},
		{"field not in the table", field.Errorf("Workers", "must be > 0"), "Workers must be > 0"},
		{"wrapped and joined", fmt.Errorf("controller: %w", errors.Join(
			field.Errorf("Dir", "must not be empty"),
			field.Errorf("RenewInterval", "(1s) must be at most half of LeaseDuration (1s)."))),
			"controller: --store-dir must not be empty\n--poll-interval (1s) must be at most half of --lease-duration (1s)."},
		{"whole words only", field.Errorf("Dir", "must not be DirX or o.Dir"), "--store-dir must not be DirX or o.Dir"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := field.Rename(c.err, flags)
			if c.err == nil {
				require.NoError(t, got)
				return
			}
			require.EqualError(t, got, c.want)
		})
	}
}

func TestRenameKeepsTheChain(t *testing.T) {
	err := field.Rename(fmt.Errorf("open: %w", field.Errorf("Dir", "x: %w", errSentinel)), map[string]string{"Dir": "--store-dir"})
	require.EqualError(t, err, "open: --store-dir x: sentinel")
	require.ErrorIs(t, err, errSentinel)
	var fe *field.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "Dir", fe.Field)
}
