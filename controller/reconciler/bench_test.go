package reconciler

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

// BenchmarkInspectGroups10k is InspectGroups through the manager's Group
// API, in process, with 10,000 groups in a file store that is unchanged:
// the store's version check is one stat and the answer comes from the
// decoded desired state, not from the file's bytes.
// (Through a socket, encoding the 10,000 specs dominates; see make bench.)
func BenchmarkInspectGroups10k(b *testing.B) {
	so := file.DefaultStoreOptions()
	so.Dir = b.TempDir()
	fs, err := file.NewStore(so)
	require.NoError(b, err)
	e := newEnv(&testing.T{}, true, func(o *Options) { o.Store = fs })
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for i := range 10000 {
		s := spec(fmt.Sprintf("g%05d", i), 1)
		entry, err := front.EntryFor(s, "group-stateless")
		require.NoError(b, err)
		cfg.Groups[s.ID] = entry
	}
	_, err = fs.Save(b.Context(), cfg, "")
	require.NoError(b, err)
	require.NoError(b, e.m.r.sync(b.Context()))
	specs, err := e.m.Group().InspectGroups(b.Context())
	require.NoError(b, err)
	require.Len(b, specs, 10000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.m.Group().InspectGroups(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
