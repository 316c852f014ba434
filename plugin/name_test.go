package plugin

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name, want string // want is empty when valid
	}{
		{"group", ""},
		{"group-stateless", ""},
		{"infrakit.manager_2", ""},
		{"élan", ""},
		{strings.Repeat("n", MaxNameBytes), ""},
		{"", "must not be empty"},
		{strings.Repeat("n", MaxNameBytes+1), "longer than 64"},
		{"../escape", "'/'"},
		{"a/b", "'/'"},
		{"..", `".."`},
		{"a..b", `".."`},
		{".", `"."`},
		{"a\x00b", "printable"},
		{"a b", "printable"},
		{"tab\t", "printable"},
		{"bad\xff", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.name)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidName)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestServeAndListenRefuseInvalidNames(t *testing.T) {
	dir := sockDir(t)
	_, err := Serve(filepath.Join(dir, "a b"), newFakeGroup(), DefaultServerOptions())
	require.ErrorIs(t, err, ErrInvalidName)
	_, err = Listen(filepath.Join(dir, "x\x01"))
	require.ErrorIs(t, err, ErrInvalidName)
}
