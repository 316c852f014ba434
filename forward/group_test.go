package forward_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/forward"
	"github.com/infrakit-manager/manager/forward/forwardtest"
	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/plugin"
)

// node is one manager's forwarding layer over a fake local Group, served
// over mutual TLS on loopback.
type node struct {
	local *forwardtest.Local
	fwd   *forward.Group
	url   string
	logs  *lines
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.l {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func (l *lines) logger() logr.Logger {
	return funcr.New(func(p, a string) { l.mu.Lock(); l.l = append(l.l, p+" "+a); l.mu.Unlock() }, funcr.Options{})
}

func tlsFiles(dir, name string) plugin.TLSFiles {
	return plugin.TLSFiles{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, name+".pem"), Key: filepath.Join(dir, name+"-key.pem")}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func newNode(t testing.TB, dir string, leader bool) *node {
	t.Helper()
	addr := freeAddr(t)
	n := &node{local: forwardtest.New(leader), url: "https://" + addr, logs: &lines{}}
	client, err := tlsFiles(dir, "peer").ClientConfig()
	require.NoError(t, err)
	o := forward.DefaultOptions()
	o.Forward, o.Advertise, o.TLS, o.NotLeader, o.Log = true, n.url, client, forwardtest.ErrNotLeader, n.logs.logger()
	n.fwd, err = forward.New(n.local, o)
	require.NoError(t, err)
	server, err := tlsFiles(dir, "peer").ServerConfig()
	require.NoError(t, err)
	s, err := plugin.ServeTCP(n.fwd, plugin.TCPOptions{Addr: addr, TLS: server}, plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return n
}

// client is a CLI-like client of n.
func (n *node) client(t testing.TB, dir string) *plugin.Client {
	t.Helper()
	conf, err := tlsFiles(dir, "cli").ClientConfig()
	require.NoError(t, err)
	u, _ := url.Parse(n.url)
	c, err := plugin.NewURLClient(u, conf, plugin.ClientOptions{Timeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func setup(t testing.TB) (dir string, leader, follower *node) {
	t.Helper()
	dir = t.TempDir()
	o := certgen.DefaultOptions()
	o.Dir, o.Names = dir, []string{"peer", "cli"}
	require.NoError(t, certgen.Write(o))
	leader, follower = newNode(t, dir, true), newNode(t, dir, false)
	leader.local.SetLeader(true, leader.url)
	follower.local.SetLeader(false, leader.url)
	return dir, leader, follower
}

func spec(id string) plugin.Spec {
	return plugin.Spec{ID: plugin.ID(id), Properties: []byte(`{"n":1}`)}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestFollowerForwardsToTheLeader(t *testing.T) {
	dir, leader, follower := setup(t)
	c := follower.client(t, dir)
	ctx := ctxFor(t, 10*time.Second)

	details, err := c.CommitGroup(ctx, spec("a"), false)
	require.NoError(t, err)
	require.Equal(t, "committed a", details, "the leader's answer")
	desc, err := c.DescribeGroup(ctx, "a")
	require.NoError(t, err)
	require.Len(t, desc.Instances, 1)
	specs, err := c.InspectGroups(ctx)
	require.NoError(t, err)
	require.Len(t, specs, 1)
	require.NoError(t, c.DestroyGroup(ctx, "a"))

	require.Empty(t, follower.local.Calls(), "nothing is served by the follower itself")
	calls := leader.local.Calls()
	require.Len(t, calls, 4)
	for _, call := range calls {
		require.Equal(t, follower.url, call.ForwardedBy, "%s carries the marker", call.Method)
	}
	require.Empty(t, leader.local.Stored())
}

func TestForwardedRequestIsNeverForwardedAgain(t *testing.T) {
	dir, leader, follower := setup(t)
	conf, err := tlsFiles(dir, "peer").ClientConfig()
	require.NoError(t, err)
	u, _ := url.Parse(follower.url)
	// A request that says another manager forwarded it, to a follower.
	c, err := plugin.NewURLClient(u, conf, plugin.ClientOptions{Timeout: 5 * time.Second,
		Header: map[string][]string{plugin.HeaderForwarded: {"https://127.0.0.1:9"}}})
	require.NoError(t, err)
	defer c.Close()

	_, err = c.CommitGroup(ctxFor(t, 5*time.Second), spec("a"), false)
	require.EqualError(t, err, "not-a-leader", "the original's text")
	loc, ok := plugin.LeaderLocationOf(err)
	require.True(t, ok)
	require.Equal(t, leader.url, loc, "the answer names the leader")
	require.Empty(t, leader.local.Calls(), "not forwarded again")
	require.True(t, follower.logs.has("refused forwarded request"))
}

func TestLocationPointingToItselfIsRefused(t *testing.T) {
	dir, leader, follower := setup(t)
	follower.local.SetLeader(false, follower.url)
	_, err := follower.client(t, dir).CommitGroup(ctxFor(t, 5*time.Second), spec("a"), false)
	require.ErrorContains(t, err, "points to this manager itself")
	require.Empty(t, leader.local.Calls())
	require.True(t, follower.logs.has("refused to forward"))
}

func TestHandover(t *testing.T) {
	t.Run("old leader answers not-a-leader: the new leader answers", func(t *testing.T) {
		dir, old, follower := setup(t)
		next := newNode(t, dir, true)
		next.local.SetLeader(true, next.url)
		old.local.SetLeader(false, next.url)
		go func() {
			// The follower learns the new location a little later.
			time.Sleep(50 * time.Millisecond)
			follower.local.SetLeader(false, next.url)
		}()
		_, err := follower.client(t, dir).CommitGroup(ctxFor(t, 10*time.Second), spec("a"), false)
		require.NoError(t, err)
		require.True(t, next.local.Stored()["a"])
		require.False(t, old.local.Stored()["a"])
	})
	t.Run("stored, leadership lost: a commit goes to the new leader, a destroy names it", func(t *testing.T) {
		dir, old, follower := setup(t)
		next := newNode(t, dir, true)
		next.local.SetLeader(true, next.url)
		for _, m := range []string{"CommitGroup", "DestroyGroup"} {
			old.local.Fail(m, fmt.Errorf("group a is stored; leadership was lost before it was applied (%w)", forwardtest.ErrNotLeader))
		}
		c := follower.client(t, dir)
		learn := func() {
			follower.local.SetLeader(false, old.url)
			go func() {
				time.Sleep(50 * time.Millisecond) // the follower learns of the new leader a little later
				follower.local.SetLeader(false, next.url)
			}()
		}
		learn()
		_, err := c.CommitGroup(ctxFor(t, 10*time.Second), spec("a"), false)
		require.NoError(t, err, "answered by the new leader")
		require.True(t, next.local.Stored()["a"])

		learn()
		err = c.DestroyGroup(ctxFor(t, 10*time.Second), "a")
		require.EqualError(t, err, "group a is stored; leadership was lost before it was applied (not-a-leader)")
		loc, ok := plugin.LeaderLocationOf(err)
		require.True(t, ok)
		require.Equal(t, next.url, loc)
		require.True(t, next.local.Stored()["a"], "the destroy was not sent again")
	})
	t.Run("stored, no new leader within the deadline: the answer still says stored", func(t *testing.T) {
		dir, old, follower := setup(t)
		old.local.Fail("CommitGroup", fmt.Errorf("group a is stored; leadership was lost before it was applied (%w)", forwardtest.ErrNotLeader))
		_, err := follower.client(t, dir).CommitGroup(ctxFor(t, 500*time.Millisecond), spec("a"), false)
		require.ErrorContains(t, err, "is stored")
	})
	t.Run("any other answer is returned, not retried", func(t *testing.T) {
		dir, leader, follower := setup(t)
		leader.local.Fail("CommitGroup", errors.New("boom"))
		_, err := follower.client(t, dir).CommitGroup(ctxFor(t, 10*time.Second), spec("a"), false)
		require.EqualError(t, err, "boom")
		require.Len(t, leader.local.Calls(), 1)
	})
	t.Run("no leader known: not-a-leader within the caller's deadline", func(t *testing.T) {
		dir, _, follower := setup(t)
		follower.local.SetLeader(false, "")
		start := time.Now()
		_, err := follower.client(t, dir).CommitGroup(ctxFor(t, 400*time.Millisecond), spec("a"), false)
		require.Error(t, err)
		require.Contains(t, err.Error(), "not-a-leader")
		// Not a timing assertion on speed: the call must end, and by its deadline (plus slack for a loaded machine).
		require.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("leader gone: the dial fails and is retried at the new one", func(t *testing.T) {
		dir, _, follower := setup(t)
		dead := "https://" + freeAddr(t)
		next := newNode(t, dir, true)
		next.local.SetLeader(true, next.url)
		follower.local.SetLeader(false, dead)
		go func() {
			time.Sleep(100 * time.Millisecond)
			follower.local.SetLeader(false, next.url)
		}()
		_, err := follower.client(t, dir).CommitGroup(ctxFor(t, 10*time.Second), spec("a"), false)
		require.NoError(t, err)
		require.True(t, next.local.Stored()["a"])
	})
}

func TestForwardOffOnlyNamesTheLeader(t *testing.T) {
	local := forwardtest.New(false)
	local.SetLeader(false, "https://127.0.0.1:24801")
	o := forward.DefaultOptions()
	o.NotLeader = forwardtest.ErrNotLeader
	g, err := forward.New(local, o)
	require.NoError(t, err)
	_, err = g.CommitGroup(context.Background(), spec("a"), false)
	require.EqualError(t, err, "not-a-leader")
	require.ErrorIs(t, err, forwardtest.ErrNotLeader)
	var nl *forward.NotLeaderError
	require.ErrorAs(t, err, &nl)
	require.Equal(t, "https://127.0.0.1:24801", nl.Location)
}

// fwdOptions returns the default Options with the test's not-a-leader
// error, changed by change.
func fwdOptions(change func(o *forward.Options)) forward.Options {
	o := forward.DefaultOptions()
	o.NotLeader = forwardtest.ErrNotLeader
	change(&o)
	return o
}

func TestOptionsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		o   forward.Options
		err string
	}{
		"defaults need the not-a-leader error": {forward.DefaultOptions(), "NotLeader must not be nil"},
		"forwarding needs an advertised URL":   {fwdOptions(func(o *forward.Options) { o.Forward = true }), "Advertise must be set with Forward"},
		"zero timeout":                         {fwdOptions(func(o *forward.Options) { o.Timeout = 0 }), "Timeout must be > 0, got 0s"},
		"ok":                                   {fwdOptions(func(*forward.Options) {}), ""},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestReadsWithoutALeaderAreAnsweredHere(t *testing.T) {
	dir, leader, follower := setup(t)
	c := follower.client(t, dir)
	for name, loc := range map[string]string{"no leader known": "", "leader unreachable": "https://" + freeAddr(t)} {
		t.Run(name, func(t *testing.T) {
			follower.local.SetLeader(false, loc)
			before := len(follower.local.Calls())
			_, err := c.InspectGroups(ctxFor(t, 10*time.Second))
			require.NoError(t, err)
			require.Len(t, follower.local.Calls(), before+1, "answered by the follower itself")
		})
	}
	require.Empty(t, leader.local.Calls())
}
