package controller

import (
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/controllertest"
)

// BenchmarkCommitFileStore10k is one commit through the manager's Group
// API with 10,000 groups in a file store, in process, against a
// downstream answering from memory: what a commit costs beyond the two
// downstream round trips (the store's prepare beside the pretend commit,
// its commit, the desired state's update). Compare with
// BenchmarkDurableReplace/groups=10000 (./sources/file), the disk's own cost
// of a file of that size.
func BenchmarkCommitFileStore10k(b *testing.B) {
	fs := controllertest.FileStore(b, 10000)
	t := &testing.T{}
	e := newEnv(t, true, func(o *Options) { o.Store, o.Log = fs, logr.Discard() })
	require.NoError(b, e.m.Start(b.Context()))
	b.Cleanup(func() { _ = e.m.Stop(b.Context()) })
	require.Eventually(b, func() bool { return e.m.Role() == RoleLeader }, 10*time.Second, time.Millisecond)
	gen := 1
	commit := func() {
		gen++
		if _, err := e.m.Group().CommitGroup(b.Context(), spec("c00", gen), false); err != nil {
			b.Fatal(err)
		}
	}
	commit()
	b.ReportAllocs()
	for b.Loop() {
		commit()
	}
}
