package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// lostCommitAnswer carries out every commit and loses the answer (a
// commit that missed --call-timeout but was applied): whether it landed is
// unknown to the caller.
type lostCommitAnswer struct{ plugin.Group }

func (l lostCommitAnswer) CommitGroup(ctx context.Context, spec plugin.Spec, pretend bool) (string, error) {
	d, err := l.Group.CommitGroup(ctx, spec, pretend)
	if pretend || err != nil {
		return d, err
	}
	return "", &plugin.TransportError{Path: "/x", Err: errors.New("context deadline exceeded")}
}

// A destroy is taken as carried out downstream (only its store record left
// to remove) only if nothing could have re-created the group since this
// replica destroyed it: a commit attempted in between, whose outcome is
// unknown, may have landed. Then the destroy is sent, and the caller told
// OK only once it succeeded.
func TestDestroy_ACommitAttemptedSinceTheLastDestroyIsNotTakenAsGone(t *testing.T) {
	e := newEnv(t, true, func(o *Options) { o.MaxBackoff = 20 * time.Millisecond })
	e.start(t)
	g := e.m.Group()
	_, err := g.CommitGroup(t.Context(), spec("cattle", 2), false)
	require.NoError(t, err)
	require.NoError(t, g.DestroyGroup(t.Context(), "cattle"))
	require.NotContains(t, e.running(t), plugin.ID("cattle"))

	e.down.Swap(lostCommitAnswer{e.down.Target()})
	_, err = g.CommitGroup(t.Context(), spec("cattle", 3), false)
	require.ErrorIs(t, err, ErrNotApplied, "the commit's answer was lost")
	require.Contains(t, e.running(t), plugin.ID("cattle"), "but it landed")

	require.NoError(t, g.DestroyGroup(t.Context(), "cattle"))
	require.NotContains(t, e.running(t), plugin.ID("cattle"), "a destroy answered OK is carried out")
	require.Equal(t, 2, e.down.Destroys("cattle"))
}
