package lease

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/internal/field"
)

// Validate names the field at fault and changes nothing.
func TestOptions_ValidateNamesFieldsAndChangesNothing(t *testing.T) {
	require.NoError(t, DefaultOptions().Validate())
	cases := []struct {
		name   string
		mutate func(*Options)
		field  string
	}{
		{"zero duration", func(o *Options) { o.Duration = 0 }, "Duration"},
		{"renewal over half the lease", func(o *Options) { o.RenewInterval = 1500 * time.Millisecond }, "RenewInterval"},
		{"check as long as the lease", func(o *Options) { o.CheckTimeout = o.Duration }, "CheckTimeout"},
		{"no clock", func(o *Options) { o.Clock = nil }, "Clock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.mutate(&o)
			before := o
			err := o.Validate()
			var fe *field.Error
			require.True(t, errors.As(err, &fe), "a field.Error: %v", err)
			require.Equal(t, c.field, fe.Field)
			require.Equal(t, before, o, "Validate changes nothing")
		})
	}
}
