package groupsim

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// BenchmarkCommitOverSocket is a takeover's unit of work in process: 8
// clients (the manager's default workers) committing new groups to the
// simulator over a unix socket, both sides of the round trip (client
// encoding, transport, server decoding, the simulator's plan, its event
// line, the answer). Per op: one commit.
func BenchmarkCommitOverSocket(b *testing.B) {
	opts := DefaultOptions()
	opts.Events = io.Discard
	sim, err := New(opts)
	require.NoError(b, err)
	path := filepath.Join(b.TempDir(), "g.sock")
	srv, err := plugin.Serve(path, sim, plugin.DefaultServerOptions())
	require.NoError(b, err)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	c := plugin.NewClient(path, plugin.ClientOptions{Timeout: time.Minute})
	defer c.Close()
	var next atomic.Int64
	commit := func() error {
		id := fmt.Sprintf("g%07d", next.Add(1))
		_, err := c.CommitGroup(b.Context(), plugin.Spec{ID: plugin.ID(id), Properties: props("{\"Size\":1}", id)}, false)
		return err
	}
	require.NoError(b, commit())
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(b.N))
	for range 8 {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := commit(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
