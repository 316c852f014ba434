package etcdtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestFreezeProxyHoldsStreamsAndDelays runs the proxy in front of a real
// etcd member: held streams (a Watch) get nothing while unary calls pass,
// and get everything in order on release; a delay slows a round trip by
// twice its value.
func TestFreezeProxyHoldsStreamsAndDelays(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an etcd member")
	}
	lab := StartLab(t, 1)
	ep := lab.Endpoint(t, 1)
	p, err := NewFreezeProxy(strings.TrimPrefix(ep, "http://"))
	require.NoError(t, err)
	defer p.Close()
	newCli := func(eps ...string) *clientv3.Client {
		cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cli.Close() })
		return cli
	}
	direct, proxied := newCli(ep), newCli(p.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	wch := proxied.Watch(ctx, "/proxytest/k")
	_, err = direct.Put(ctx, "/proxytest/k", "1")
	require.NoError(t, err)
	wr := <-wch
	require.Len(t, wr.Events, 1)
	require.Equal(t, "1", string(wr.Events[0].Kv.Value))

	p.HoldStreams()
	_, err = direct.Put(ctx, "/proxytest/k", "2")
	require.NoError(t, err)
	resp, err := proxied.Get(ctx, "/proxytest/k") // unary: passes
	require.NoError(t, err)
	require.Equal(t, "2", string(resp.Kvs[0].Value))
	select {
	case wr := <-wch:
		t.Fatalf("a held watch delivered %v", wr.Events)
	case <-time.After(500 * time.Millisecond):
	}
	p.ReleaseStreams()
	select {
	case wr := <-wch:
		require.Len(t, wr.Events, 1)
		require.Equal(t, "2", string(wr.Events[0].Kv.Value))
	case <-ctx.Done():
		t.Fatal("the released watch delivered nothing")
	}

	const delay = 300 * time.Millisecond
	p.SetDelay(delay)
	start := time.Now()
	_, err = proxied.Get(ctx, "/proxytest/k")
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 2*delay, "a delayed round trip came back early")
	p.SetDelay(0)
}
