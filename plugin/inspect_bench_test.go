package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkClientInspectGroups10k is one InspectGroups answer of 10,000
// groups over a unix socket, as the manager's sync asks it of the
// downstream: the server's encoding, the transfer and the client's
// decoding (the part a resync of in-sync groups is left with).
func BenchmarkClientInspectGroups10k(b *testing.B) {
	f := newFakeGroup()
	for i := range 10000 {
		f.inspect = append(f.inspect, Spec{ID: ID(fmt.Sprintf("g%05d", i)), Properties: json.RawMessage(
			fmt.Sprintf(`{"ID":"g%05d","Properties":{"Instance":{"Plugin":"instance-sim","Properties":{"Gen":0}},"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Tags":{"tier":"bench"}}},"Allocation":{"Size":1}}}`, i))})
	}
	path := filepath.Join(b.TempDir(), "g.sock")
	srv, err := Serve(path, f, DefaultServerOptions())
	require.NoError(b, err)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	c := NewClient(path, ClientOptions{Timeout: time.Minute})
	defer c.Close()
	specs, err := c.InspectGroups(b.Context())
	require.NoError(b, err)
	require.Len(b, specs, 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.InspectGroups(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
