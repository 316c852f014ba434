package file_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestFileLocationContract(t *testing.T) {
	sourcestest.RunLocationContract(t, func(t *testing.T) sources.LocationStore {
		l, err := file.NewLocation(filepath.Join(t.TempDir(), "leader"))
		require.NoError(t, err)
		return l
	})
}
