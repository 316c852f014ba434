package sources

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeConfig_Positions(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"garbage first byte", "xyz", "line 1, column 1"},
		{"bad second line", "{\n  \"Groups\": x}", "line 2, column 13"},
		{"truncated", "{\n  \"Groups\": {", "unexpected end of JSON input"},
		{"wrong type", "{\"Groups\": 3}", "line 1, column"},
		{"trailing data", "{} {}", "trailing data at line 1, column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeConfig([]byte(c.in))
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrCorrupt))
			require.Contains(t, err.Error(), c.want)
		})
	}
	cfg, err := DecodeConfig([]byte("  \n"))
	require.NoError(t, err)
	require.Empty(t, cfg.Groups)
}
