package controllertest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

// FileStore returns a file store in a temporary directory holding n groups
// g00000, g00001, … (Spec of size 1, stored as the front stores them), for
// the benchmarks that measure the manager at scale.
func FileStore(tb testing.TB, n int) *file.Store {
	tb.Helper()
	so := file.DefaultStoreOptions()
	so.Dir = tb.TempDir()
	fs, err := file.NewStore(so)
	require.NoError(tb, err)
	cfg := sources.Config{Groups: make(map[plugin.ID]sources.Entry, n)}
	for i := range n {
		s := Spec(fmt.Sprintf("g%05d", i), 1)
		entry, err := front.EntryFor(s, "group-stateless")
		require.NoError(tb, err)
		cfg.Groups[s.ID] = entry
	}
	_, err = fs.Save(tb.Context(), cfg, "")
	require.NoError(tb, err)
	return fs
}
