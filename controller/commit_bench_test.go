package controller

import (
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

// BenchmarkCommitFileStore10k is one commit through the manager's Group
// API with 10,000 groups in a file store, in process, against a
// downstream answering from memory: what a commit costs beyond the two
// downstream round trips (the store's prepare beside the pretend commit,
// its commit, the desired state's update). Compare with
// BenchmarkDurableReplace/groups=10000 (./sources/file), the disk's own cost
// of a file of that size.
func BenchmarkCommitFileStore10k(b *testing.B) {
	so := file.DefaultStoreOptions()
	so.Dir = b.TempDir()
	fs, err := file.NewStore(so)
	require.NoError(b, err)
	t := &testing.T{}
	e := newEnv(t, true, func(o *Options) { o.Store, o.Log = fs, logr.Discard() })
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for i := range 10000 {
		s := spec(fmt.Sprintf("g%05d", i), 1)
		entry, err := entryFor(s, "group-stateless")
		require.NoError(b, err)
		cfg.Groups[s.ID] = entry
	}
	_, err = fs.Save(b.Context(), cfg, "")
	require.NoError(b, err)
	require.NoError(b, e.m.Start(b.Context()))
	b.Cleanup(func() { _ = e.m.Stop(b.Context()) })
	for e.m.Role() != RoleLeader {
		require.NoError(b, b.Context().Err())
	}
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
