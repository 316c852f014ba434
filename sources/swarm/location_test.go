package swarm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

func TestLocationContract(t *testing.T) {
	node := 0
	sourcestest.RunLocationContract(t, func(t *testing.T) sources.LocationStore {
		lab := sharedLab(t)
		node = node%labNodes + 1
		l, err := NewLocation(newClient(t, lab.Host(node), storeTimeout), testLabel(t, rawAPI(t, lab.Host(node))))
		require.NoError(t, err)
		return l
	})
}
