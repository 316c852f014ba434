package workqueue_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/workqueue"
)

// with returns the default Options changed by change.
func with(change func(o *workqueue.Options)) workqueue.Options {
	o := workqueue.DefaultOptions()
	change(&o)
	return o
}

func TestNew_Options(t *testing.T) {
	cases := []struct {
		name    string
		opts    workqueue.Options
		wantErr []string // substrings; empty means valid
	}{
		{name: "defaults", opts: workqueue.DefaultOptions()},
		{
			name:    "zero value is refused",
			opts:    workqueue.Options{},
			wantErr: []string{"Clock must not be nil", "BaseDelay must be > 0, got 0s", "MaxDelay must be > 0, got 0s"},
		},
		{name: "custom", opts: workqueue.Options{Clock: clock.RealClock{}, BaseDelay: time.Second, MaxDelay: time.Second, Name: "q"}},
		{name: "negative base", opts: with(func(o *workqueue.Options) { o.BaseDelay = -time.Second }), wantErr: []string{"workqueue: invalid options: BaseDelay must be > 0, got -1s"}},
		{name: "negative max", opts: with(func(o *workqueue.Options) { o.MaxDelay = -time.Second }), wantErr: []string{"MaxDelay must be > 0, got -1s"}},
		{
			name:    "base above max",
			opts:    with(func(o *workqueue.Options) { o.BaseDelay, o.MaxDelay = time.Minute, time.Second }),
			wantErr: []string{"MaxDelay (1s) must not be below BaseDelay (1m0s)"},
		},
		{
			name:    "base above default max",
			opts:    with(func(o *workqueue.Options) { o.BaseDelay = time.Minute }),
			wantErr: []string{"MaxDelay (30s) must not be below BaseDelay (1m0s)"},
		},
		{
			name:    "every bad field reported",
			opts:    with(func(o *workqueue.Options) { o.BaseDelay, o.MaxDelay = -1, -1 }),
			wantErr: []string{"BaseDelay must", "MaxDelay must"},
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
