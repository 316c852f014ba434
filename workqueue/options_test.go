package workqueue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/workqueue"
)

func TestNew_Options(t *testing.T) {
	cases := []struct {
		name    string
		opts    workqueue.Options
		wantErr []string // substrings; empty means valid
	}{
		{name: "defaults", opts: workqueue.DefaultOptions()},
		{name: "zero value takes defaults", opts: workqueue.Options{}},
		{name: "custom", opts: workqueue.Options{Clock: clock.RealClock{}, BaseDelay: time.Second, MaxDelay: time.Second, Name: "q"}},
		{name: "negative base", opts: workqueue.Options{BaseDelay: -time.Second}, wantErr: []string{"base delay must be positive, got -1s"}},
		{name: "negative max", opts: workqueue.Options{MaxDelay: -time.Second}, wantErr: []string{"--max-backoff must be positive, got -1s"}},
		{
			name:    "base above max",
			opts:    workqueue.Options{BaseDelay: time.Minute, MaxDelay: time.Second},
			wantErr: []string{"--max-backoff (1s) must not be below the base delay (1m0s)"},
		},
		{
			name:    "base above default max",
			opts:    workqueue.Options{BaseDelay: time.Minute},
			wantErr: []string{"--max-backoff (30s) must not be below the base delay (1m0s)"},
		},
		{
			name:    "every bad field reported",
			opts:    workqueue.Options{BaseDelay: -1, MaxDelay: -1},
			wantErr: []string{"base delay must", "--max-backoff must"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := workqueue.New[string](c.opts)
			if len(c.wantErr) == 0 {
				require.NoError(t, err)
				require.Equal(t, c.opts.Name, q.Name())
				q.ShutDown()
				return
			}
			require.ErrorIs(t, err, workqueue.ErrInvalidOptions)
			require.Nil(t, q)
			for _, s := range c.wantErr {
				require.ErrorContains(t, err, s)
			}
		})
	}
}

func TestDefaultOptions(t *testing.T) {
	o := workqueue.DefaultOptions()
	require.Equal(t, clock.RealClock{}, o.Clock)
	require.Equal(t, 5*time.Millisecond, o.BaseDelay)
	require.Equal(t, 30*time.Second, o.MaxDelay)
}
