package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/controller/front"
	"github.com/infrakit-manager/manager/controller/reconciler"
	"github.com/infrakit-manager/manager/internal/claim"
	"github.com/infrakit-manager/manager/internal/ops"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// problems returns the manager's Status problems, joined.
func (e *env) problems(t *testing.T) string {
	t.Helper()
	st, err := e.m.Group().(*front.Front).Status(t.Context())
	require.NoError(t, err)
	return strings.Join(st.Problems, "\n")
}

func withChecks(c *ops.Checks) func(*Options) { return func(o *Options) { o.Checks = c } }

// TestStore_VanishedIsUnknown: a file store whose directory is removed or
// swapped for an empty one is unknown, never empty: the leader frees
// nothing, Status and /readyz say why, it recovers by itself when the dir
// is back, and writing {} resets it (then the groups are freed).
func TestStore_VanishedIsUnknown(t *testing.T) {
	for _, swap := range []bool{false, true} {
		t.Run(fmt.Sprintf("swapped=%t", swap), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			so := file.DefaultStoreOptions()
			so.Dir, so.Create = dir, true
			fs, err := file.NewStore(so)
			require.NoError(t, err)
			checks := &ops.Checks{}
			var syncErrors atomic.Int32
			log := funcr.New(func(_, args string) {
				if strings.Contains(args, `"msg"="sync failed, retrying"`) || strings.Contains(args, `"sync failed, retrying"`) {
					syncErrors.Add(1)
				}
			}, funcr.Options{})
			e := newEnv(t, true, withChecks(checks), func(o *Options) { o.Store, o.ResyncInterval, o.Log = fs, 10*time.Millisecond, log })
			e.start(t)
			for _, id := range []string{"a", "b"} {
				_, err := e.m.Group().CommitGroup(t.Context(), spec(id, 1), false)
				require.NoError(t, err)
			}
			require.NoError(t, os.Rename(dir, dir+".aside"))
			if swap {
				require.NoError(t, os.Mkdir(dir, 0o700))
			}
			after := e.down.Inspected()
			eventually(t, func() bool { return e.down.Inspected() >= after+5 }, "five resyncs")
			require.ElementsMatch(t, []plugin.ID{"a", "b"}, e.running(t), "a vanished store freed groups")
			require.Zero(t, e.down.Frees("a")+e.down.Frees("b"))
			require.Contains(t, e.problems(t), "store vanished")
			// Once per change, not per sync: the swap may be seen half done
			// (the dir missing, then empty), a second change.
			require.GreaterOrEqual(t, syncErrors.Load(), int32(1), "the vanished store is logged at error level")
			require.LessOrEqual(t, syncErrors.Load(), int32(map[bool]int{false: 1, true: 2}[swap]), "logged once per change, not per sync")
			err = checks.Readyz(t.Context())
			require.ErrorIs(t, err, sources.ErrStoreGone)
			require.ErrorContains(t, err, "store: ")
			_, err = e.m.Group().InspectGroups(t.Context())
			require.ErrorIs(t, err, sources.ErrStoreGone, "InspectGroups must not answer no groups")

			if swap {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "global.config"), []byte("{}"), 0o600))
				eventually(t, func() bool { return len(e.running(t)) == 0 }, "{} resets the store: its groups are freed")
				require.NotContains(t, e.problems(t), "store vanished")
				return
			}
			require.NoError(t, os.Rename(dir+".aside", dir))
			eventually(t, func() bool { return !strings.Contains(e.problems(t), "store") }, "recovers by itself")
			require.NoError(t, checks.Readyz(t.Context()))
			require.ElementsMatch(t, []plugin.ID{"a", "b"}, e.running(t))
		})
	}
}

// checkingStore is a MemStore that can tell whether it can be written.
type checkingStore struct {
	*sourcestest.MemStore
	checkErr atomic.Pointer[error]
	checks   atomic.Int32
}

func (c *checkingStore) CheckWrite(context.Context) error {
	c.checks.Add(1)
	if p := c.checkErr.Load(); p != nil {
		return *p
	}
	return nil
}

// TestHealth_StoreWriteFailure: a failed write (no space) is reported by
// Status and /readyz until the store can be written again, found by the
// periodic write check without any new commit; a conflict is no failure.
func TestHealth_StoreWriteFailure(t *testing.T) {
	store := &checkingStore{MemStore: sourcestest.NewMemStore()}
	enospc := fmt.Errorf("write global.config: %w", syscall.ENOSPC)
	store.checkErr.Store(&enospc)
	checks := &ops.Checks{}
	e := newEnv(t, true, withChecks(checks), func(o *Options) { o.Store, o.ResyncInterval = store, 20*time.Millisecond })
	e.start(t)
	require.NoError(t, checks.Readyz(t.Context()))
	store.SetSaveError(enospc)
	_, err := e.m.Group().CommitGroup(t.Context(), spec("a", 1), false)
	require.Error(t, err)
	require.Contains(t, e.problems(t), "store cannot be written: the last write failed")
	require.Contains(t, e.problems(t), "no space left on device")
	err = checks.Readyz(t.Context())
	require.ErrorContains(t, err, "store writes: the last write failed")
	eventually(t, func() bool { return store.checks.Load() >= 2 }, "the write is checked again")
	require.Error(t, checks.Readyz(t.Context()), "still failing")

	store.SetSaveError(nil)
	store.checkErr.Store(nil)
	eventually(t, func() bool { return checks.Readyz(t.Context()) == nil }, "the check finds the store writable")
	require.NotContains(t, e.problems(t), "store cannot be written")

	// That a conflict or a cancelled call says nothing about the store is
	// the bounded store's own test (reconciler).
}

// TestHealth_DownstreamNotFound: a misspelled --proxy-for-group is shown by
// Status and /readyz.
func TestHealth_DownstreamNotFound(t *testing.T) {
	checks := &ops.Checks{}
	e := newEnv(t, true, withChecks(checks), func(o *Options) {
		o.Downstream, o.ProxyFor, o.ResyncInterval = nil, "group-statless", 20*time.Millisecond
	})
	e.start(t)
	eventually(t, func() bool { return strings.Contains(e.problems(t), "not found") }, "downstream not found")
	require.Contains(t, e.problems(t), `downstream "group-statless" not found in `+e.dir+" (check --proxy-for-group and --plugin-dir)")
	require.ErrorContains(t, checks.Readyz(t.Context()), "downstream: downstream \"group-statless\" not found")
}

// TestClaims_SecondManagerIsRefused: a second manager driving the same
// downstream, or with the same --name on one store, is refused at start
// (ErrMisconfigured, naming the holder) and acts on nothing; it starts once
// the first has stopped.
func TestClaims_SecondManagerIsRefused(t *testing.T) {
	storeDir := t.TempDir()
	cases := []struct {
		name string
		opts func(e *env) func(*Options)
		want string
	}{
		{"same downstream", func(e *env) func(*Options) {
			return func(o *Options) { o.Downstream, o.PluginDir, o.Name = nil, e.dir, "other" }
		}, "downstream \"group-stateless\""},
		{"same name on one store", func(*env) func(*Options) {
			return func(o *Options) { o.Claims = []Claim{NameClaim(storeDir, "group")} }
		}, "--name \"group\" on the store in " + storeDir},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := newEnv(t, true, func(o *Options) { o.Downstream = nil; o.Claims = []Claim{NameClaim(storeDir, "group")} })
			require.NoError(t, first.m.Start(t.Context()))
			second := newEnv(t, true, tc.opts(first))
			err := second.m.Start(t.Context())
			require.ErrorIs(t, err, ErrMisconfigured)
			require.ErrorIs(t, err, claim.ErrHeld)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, fmt.Sprintf("held by group (pid %d", os.Getpid()))
			t.Logf("misconfig detected: %v", err)
			var out strings.Builder
			_, err = second.m.RunOnce(t.Context(), &out, false)
			require.ErrorIs(t, err, ErrMisconfigured)
			require.Contains(t, out.String(), "acting on nothing")
			require.NoError(t, first.m.Stop(t.Context()))
			third := newEnv(t, true, tc.opts(first))
			third.start(t)
		})
	}
}

// TestClaims_LostClaimIsShown: a claim whose lock file is replaced and
// taken by another process is shown within one resync.
func TestClaims_LostClaimIsShown(t *testing.T) {
	storeDir := t.TempDir()
	checks := &ops.Checks{}
	e := newEnv(t, true, withChecks(checks), func(o *Options) {
		o.Claims = []Claim{NameClaim(storeDir, "group")}
		o.ResyncInterval = 20 * time.Millisecond
	})
	e.start(t)
	require.NoError(t, checks.Readyz(t.Context()))
	lock := filepath.Join(storeDir, ".manager-group.lock")
	require.NoError(t, os.Rename(lock, lock+".old"))
	other := NameClaim(storeDir, "group")
	require.NoError(t, other.Take())
	t.Cleanup(other.Release)
	eventually(t, func() bool { return strings.Contains(e.problems(t), "misconfiguration") }, "lost claim shown")
	require.ErrorContains(t, checks.Readyz(t.Context()), "claims: misconfiguration: --name \"group\"")
	other.Release()
	eventually(t, func() bool { return !strings.Contains(e.problems(t), "misconfiguration") }, "claim taken again")
}

// blockingStore is a store whose Load hangs until released.
type blockingStore struct {
	*sourcestest.MemStore
	block   chan struct{}
	mu      sync.Mutex
	running int
	most    int
}

func (b *blockingStore) Load(ctx context.Context) (sources.Config, sources.Version, error) {
	b.mu.Lock()
	b.running++
	b.most = max(b.most, b.running)
	b.mu.Unlock()
	<-b.block
	b.mu.Lock()
	b.running--
	b.mu.Unlock()
	return b.MemStore.Load(ctx)
}

// TestHealth_ProbesOfAHungStoreAreBounded: /readyz reads the store through
// the bounded store, so probing a hung store never costs more than
// MaxStoreReads calls at once.
func TestHealth_ProbesOfAHungStoreAreBounded(t *testing.T) {
	store := &blockingStore{MemStore: sourcestest.NewMemStore(), block: make(chan struct{})}
	checks := &ops.Checks{}
	e := newEnv(t, true, withChecks(checks), func(o *Options) { o.Store, o.StoreTimeout = store, 20*time.Millisecond })
	for range 50 {
		err := checks.Readyz(t.Context())
		require.ErrorContains(t, err, "store: ")
	}
	store.mu.Lock()
	most := store.most
	store.mu.Unlock()
	close(store.block)
	require.LessOrEqual(t, most, reconciler.MaxStoreReads)
	require.NotNil(t, e)
}
