package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Sizes of the durability run.
const (
	durableGroups  = 1000 // distinct groups the clients try to commit
	durableClients = 16   // concurrent client goroutines
	durableKillAt  = 400  // acks seen before the manager is killed
	// durableAckWait bounds the wait for those acks (each commit is an
	// fsync'd rewrite of the whole store; ~10 s on a busy 2-core machine).
	durableAckWait = 90 * time.Second
	// durableConverge bounds the restarted manager's re-commit of a few
	// hundred groups; it normally takes a second or two.
	durableConverge = 45 * time.Second
)

// commitTally records the outcome of every commit the clients made.
type commitTally struct {
	mu        sync.Mutex
	acked     []string // got a success reply
	rpcErrs   []string // the manager answered with an error
	transport int      // no answer: the manager was gone
	n         atomic.Int64
}

func (c *commitTally) record(id string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var rpcErr *plugin.RPCError
	switch {
	case err == nil:
		c.acked = append(c.acked, id)
		c.n.Add(1)
	case errors.As(err, &rpcErr):
		c.rpcErrs = append(c.rpcErrs, fmt.Sprintf("%s: %v", id, err))
	default:
		c.transport++
	}
}

// storeReader reads the store file in a loop while it is being written and
// counts the reads that do not decode: a reader must only ever see a whole
// file, whatever the writer is doing (including being killed).
type storeReader struct {
	reads, torn atomic.Int64
	firstTorn   atomic.Value // string
	stop        chan struct{}
	done        chan struct{}
}

func startStoreReader(path string) *storeReader {
	r := &storeReader{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			select {
			case <-r.stop:
				return
			case <-time.After(time.Millisecond):
			}
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			r.reads.Add(1)
			if err == nil {
				_, err = sources.DecodeConfig(data)
			}
			if err != nil {
				r.torn.Add(1)
				r.firstTorn.CompareAndSwap(nil, err.Error())
			}
		}
	}()
	return r
}

func (r *storeReader) halt() { close(r.stop); <-r.done }

// TestFaultKill9Durability: 16 clients commit 1,000 distinct groups at once
// to the leader's manager, which is killed with SIGKILL after about 400
// acks. Every commit that got a success reply must be in global.config
// (which must decode: never torn, also while it was being written) and,
// once the restarted manager has reconciled, run downstream.
func TestFaultKill9Durability(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	ctx := t.Context()

	var (
		tally commitTally
		next  atomic.Int64
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	reader := startStoreReader(c.storePath())
	start := time.Now()
	for range durableClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := plugin.NewClient(a.socket(), plugin.ClientOptions{Timeout: faultCallTimeout})
			defer cl.Close()
			for !stop.Load() {
				i := next.Add(1) - 1
				if i >= durableGroups {
					return
				}
				id := fmt.Sprintf("d%04d", i)
				_, err := cl.CommitGroup(ctx, faultSpec(id), false)
				tally.record(id, err)
			}
		}()
	}
	require.Eventually(t, func() bool { return tally.n.Load() >= durableKillAt }, durableAckWait, time.Millisecond,
		"acks before the kill: %d", tally.n.Load())
	a.mgr.Kill()
	killedAfter := time.Since(start)
	stop.Store(true)
	wg.Wait()
	reader.halt()

	tally.mu.Lock()
	acked := slices.Clone(tally.acked)
	require.Empty(t, tally.rpcErrs, "a live manager refused commits of distinct valid groups")
	transport := tally.transport
	tally.mu.Unlock()
	t.Logf("killed after %s: acked=%d unanswered=%d issued=%d", killedAfter.Round(time.Millisecond),
		len(acked), transport, min(next.Load(), durableGroups))
	t.Logf("concurrent store reads=%d torn=%d", reader.reads.Load(), reader.torn.Load())
	require.Zero(t, reader.torn.Load(), "a reader saw a torn store: %v", reader.firstTorn.Load())

	// The store as the kill left it: whole, holding every acked group.
	cfg, err := sources.DecodeConfig(fileBytes(t, c.storePath()))
	require.NoError(t, err, "the store file is torn after the kill")
	stored := c.stored()
	lost := setOf(stored).missing(acked)
	t.Logf("store: acked=%d found=%d lost=%d (stored=%d, stored but never acked=%d)",
		len(acked), len(acked)-len(lost), len(lost), len(cfg.Groups), len(stored)-(len(acked)-len(lost)))
	require.Empty(t, lost, "acked groups missing from the store")
	if temps, _ := filepath.Glob(filepath.Join(c.storeDir, ".global.config.tmp-*")); len(temps) > 0 {
		t.Logf("the kill left %d temp file(s) in the store dir (removed by the next save)", len(temps))
	}

	// Restart on the stale socket: the manager reconciles the downstream to
	// exactly the store, so every acked group runs there.
	a.startManager()
	var running []string
	require.Eventually(t, func() bool {
		running, err = a.simGroups(ctx)
		return err == nil && slices.Equal(running, stored)
	}, durableConverge, 50*time.Millisecond, "downstream runs %d groups, store holds %d", len(running), len(stored))
	lostDown := setOf(running).missing(acked)
	t.Logf("downstream: acked=%d found=%d lost=%d", len(acked), len(acked)-len(lostDown), len(lostDown))
	require.Empty(t, lostDown)
	require.Equal(t, stored, c.stored(), "the restart changed the store")
	require.False(t, strings.Contains(a.mgr.Stderr(), "panic"), "manager stderr:\n%s", a.mgr.Stderr())
	require.Equal(t, 0, a.mgr.Stop())
}
