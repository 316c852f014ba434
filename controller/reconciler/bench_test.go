package reconciler

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/controllertest"
)

// BenchmarkInspectGroups10k is InspectGroups through the manager's Group
// API, in process, with 10,000 groups in a file store that is unchanged:
// the store's version check is one stat and the answer comes from the
// decoded desired state, not from the file's bytes.
// (Through a socket, encoding the 10,000 specs dominates; see make bench.)
func BenchmarkInspectGroups10k(b *testing.B) {
	fs := controllertest.FileStore(b, 10000)
	e := newEnv(&testing.T{}, true, func(o *Options) { o.Store = fs })
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
