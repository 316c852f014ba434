package etcd

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// TestCacheLateWatchPutAfterOwnDelete: our own Save deletes a key ahead of
// the watch; the watch's late copy of the older put must not bring it back
// (a later Save would compare against a key that is gone and conflict),
// and the tombstone goes once the watch passes the delete.
func TestCacheLateWatchPutAfterOwnDelete(t *testing.T) {
	keys := layout{"/p"}
	noBad := func(string, plugin.ID, error) { t.Fatal("no key here is unreadable") }
	val := []byte(`{"Plugin":"group","Properties":{}}`)
	for _, c := range []struct {
		name string
		key  string
		get  func(*cache) map[plugin.ID]cached
	}{
		{"group", keys.group("pets"), func(c *cache) map[plugin.ID]cached { return c.groups }},
		{"pending destroy", keys.destroyingDir() + EscapeID("pets"), func(c *cache) map[plugin.ID]cached { return c.destCache().groups }},
	} {
		t.Run(c.name, func(t *testing.T) {
			ca := newCache()
			ca.apply(keys, c.key, val, true, 5, 1<<20, noBad)  // our Save at 5, written through
			ca.apply(keys, c.key, nil, false, 7, 1<<20, noBad) // our Save at 7 deletes it, written through
			ca.apply(keys, c.key, val, true, 5, 1<<20, noBad)  // the watch's copy of the put at 5
			require.NotContains(t, c.get(ca), plugin.ID("pets"), "a late put older than the delete came back")
			ca.apply(keys, c.key, nil, false, 7, 1<<20, noBad) // the watch's copy of the delete
			ca.advance(7)
			require.Empty(t, ca.gone)
			if ca.dest != nil {
				require.Empty(t, ca.dest.gone, "tombstones are bounded by the deletes the watch has not passed")
			}
			ca.apply(keys, c.key, val, true, 9, 1<<20, noBad) // a newer put applies
			require.Contains(t, c.get(ca), plugin.ID("pets"))
		})
	}
}

// TestCacheListingKeepsOwnDelete: a listing read before our own delete
// does not bring the key back.
func TestCacheListingKeepsOwnDelete(t *testing.T) {
	keys := layout{"/p"}
	noBad := func(string, plugin.ID, error) {}
	val := []byte(`{"Plugin":"group","Properties":{}}`)
	old := newCache()
	old.apply(keys, keys.group("pets"), nil, false, 8, 1<<20, noBad) // our delete at 8
	next := newCache()
	next.apply(keys, keys.group("pets"), val, true, 5, 1<<20, noBad) // the listing at 6 holds the put at 5
	next.keepGone(old, 6)
	require.NotContains(t, next.groups, plugin.ID("pets"))
	require.Equal(t, int64(8), next.gone["pets"])
}
