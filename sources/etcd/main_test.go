package etcd

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
)

// labMembers is the size of the cluster every test of this binary shares.
const labMembers = 3

// shared is the binary's one lab, started by the first test that needs it
// and stopped by TestMain. Tests leave every member running.
var shared struct {
	once sync.Once
	lab  *etcdtest.Lab
	err  error
}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	code := m.Run()
	if shared.lab != nil {
		if err := shared.lab.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "etcd lab teardown: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sharedLab returns the binary's lab, starting it on first use.
func sharedLab(t testing.TB) *etcdtest.Lab {
	t.Helper()
	etcdtest.RequireEtcd(t)
	shared.once.Do(func() {
		start := time.Now()
		shared.lab, shared.err = etcdtest.NewLab(context.Background(), labMembers)
		t.Logf("started a %d-member etcd lab in %s", labMembers, time.Since(start).Round(time.Millisecond))
	})
	if shared.err != nil {
		t.Fatalf("start etcd lab: %v", shared.err)
	}
	return shared.lab
}

// newClient returns a client of the shared lab, closed at cleanup.
func newClient(t testing.TB) *clientv3.Client {
	t.Helper()
	lab := sharedLab(t)
	opts := DefaultClientOptions()
	opts.Endpoints = lab.Endpoints(t)
	cli, err := NewClient(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

var prefixSeq atomic.Int64

// testPrefix returns a prefix unique to this test, deleted at cleanup.
func testPrefix(t testing.TB, cli *clientv3.Client) string {
	t.Helper()
	p := fmt.Sprintf("/iktest/%d-%d", time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cli.Delete(ctx, p+"/", clientv3.WithPrefix()); err != nil {
			t.Errorf("delete test prefix %s: %v", p, err)
		}
	})
	return p
}

// newLeadership returns a candidate on prefix, closed at cleanup.
func newLeadership(t testing.TB, cli *clientv3.Client, prefix, name string, mod ...func(*LeadershipOptions)) *Leadership {
	t.Helper()
	o := DefaultLeadershipOptions()
	o.Prefix, o.Name, o.LeaseDuration, o.CallTimeout = prefix, name, 2*time.Second, 0 // derived from the lease
	o.Log = testLog(t).WithName(name)
	for _, f := range mod {
		f(&o)
	}
	l, err := NewLeadership(cli, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// newStore returns a store on prefix fenced by f (nil: unfenced), closed at
// cleanup.
func newStore(t testing.TB, cli *clientv3.Client, prefix string, f Fencer) *Store {
	t.Helper()
	o := DefaultStoreOptions()
	o.Prefix, o.Fence = prefix, f
	// A loaded CI machine (race detector, several packages at once) can
	// take over 2 s for a 126-operation Txn; the tests check outcomes, not
	// latency.
	o.CallTimeout = 10 * time.Second
	o.Log = testLog(t)
	s, err := NewStore(cli, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// requireLeader waits until l reports leadership.
func requireLeader(t testing.TB, l *Leadership, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		st, err := l.Check(ctx)
		return err == nil && st.Leader
	}, within, 10*time.Millisecond, "never became leader")
}

// testLog logs to t in tests and discards in benchmarks.
func testLog(t testing.TB) logr.Logger {
	if tt, ok := t.(*testing.T); ok {
		return testr.New(tt)
	}
	return logr.Discard()
}
