package etcd

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestLocationContract(t *testing.T) {
	cli := newClient(t)
	sourcestest.RunLocationContract(t, func(t *testing.T) sources.LocationStore {
		l, err := NewLocation(cli, testPrefix(t, cli), 0)
		require.NoError(t, err)
		return l
	})
}
