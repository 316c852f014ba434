package sources_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestFileLocationContract(t *testing.T) {
	sourcestest.RunLocationContract(t, func(t *testing.T) sources.LocationStore {
		l, err := sources.NewFileLocation(filepath.Join(t.TempDir(), "leader"))
		require.NoError(t, err)
		return l
	})
}
