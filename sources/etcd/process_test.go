package etcd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// helperEnv makes the test binary a candidate process (see helperMain):
// its value is "endpoints|prefix|name|lease".
const helperEnv = "INFRAKIT_ETCD_TEST_CANDIDATE"

// helperMain campaigns, prints "leader" once it leads, then answers one line
// per command read from stdin:
//
//	save ID        Save through the Leadership-fenced store → "ok" or "err <text>"
//	stale ID       Save fenced on the fence held when it first led (the local
//	               check bypassed, as if it were skipped) → "ok" or "err <text>"
func helperMain() int {
	parts := strings.Split(os.Getenv(helperEnv), "|")
	lease, err := time.ParseDuration(parts[3])
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	copts := DefaultClientOptions()
	copts.Endpoints = strings.Split(parts[0], ",")
	cli, err := NewClient(copts)
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	lo := DefaultLeadershipOptions()
	lo.Prefix, lo.Name, lo.LeaseDuration, lo.CallTimeout = parts[1], parts[2], lease, 0 // derived from the lease
	l, err := NewLeadership(cli, lo)
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := l.Check(ctx)
		cancel()
		if err == nil && st.Leader {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	first, err := l.Fence()
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	so := DefaultStoreOptions()
	so.Prefix, so.Fence = parts[1], l
	fenced, err1 := NewStore(cli, so)
	so.Fence = staticFence(first)
	stale, err2 := NewStore(cli, so)
	if err := errors.Join(err1, err2); err != nil {
		fmt.Println("err", err)
		return 1
	}
	fmt.Println("leader")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, id, _ := strings.Cut(in.Text(), " ")
		s := fenced
		if cmd == "stale" {
			s = stale
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, _, err := sources.Update(ctx, s, func(c *sources.Config) error {
			c.Groups[plugin.ID(id)] = sourcestest.SampleEntry(plugin.ID(id))
			return nil
		})
		cancel()
		if err != nil {
			fmt.Println("err", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Println("ok")
		}
	}
	return 0
}

// candidate is a helper process.
type candidate struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startCandidate(t *testing.T, endpoints []string, prefix, name string, lease time.Duration) *candidate {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%s|%s", helperEnv, strings.Join(endpoints, ","), prefix, name, lease))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return &candidate{cmd: cmd, in: in, out: bufio.NewScanner(out)}
}

// line reads the next line the helper prints.
func (c *candidate) line(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		if c.out.Scan() {
			got <- c.out.Text()
		} else {
			got <- "EOF"
		}
	}()
	select {
	case l := <-got:
		return l
	case <-time.After(20 * time.Second):
		t.Fatal("candidate process said nothing for 20s")
		return ""
	}
}

func (c *candidate) ask(t *testing.T, cmd string) string {
	t.Helper()
	_, err := fmt.Fprintln(c.in, cmd)
	require.NoError(t, err)
	return c.line(t)
}

// TestLeadershipFrozenHolderIsFenced: the leading process is SIGSTOPped past
// its TTL; another candidate takes over and commits; the frozen one, resumed,
// answers not-a-leader at once and its stale write is refused by etcd.
func TestLeadershipFrozenHolderIsFenced(t *testing.T) {
	cli := newClient(t)
	lab := sharedLab(t)
	p := testPrefix(t, cli)
	const lease = 2 * time.Second
	frozen := startCandidate(t, lab.Endpoints(t), p, "frozen", lease)
	require.Equal(t, "leader", frozen.line(t))
	require.Equal(t, "ok", frozen.ask(t, "save before"))

	other := newLeadership(t, cli, p, "other")
	require.Eventually(t, func() bool {
		_, holder, _, err := check(t, other)
		return err == nil && holder == "frozen"
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, frozen.cmd.Process.Signal(syscall.SIGSTOP))
	stopped := time.Now()
	requireLeader(t, other, lease+5*time.Second)
	t.Logf("SIGSTOP of the leading process → other candidate leads after %s (lease %s)", time.Since(stopped).Round(time.Millisecond), lease)
	s := newStore(t, cli, p, other)
	_, _, err := sources.Update(etcdtest.Context(t), s, func(c *sources.Config) error {
		c.Groups["after"] = sourcestest.SampleEntry("after")
		return nil
	})
	require.NoError(t, err)

	require.NoError(t, frozen.cmd.Process.Signal(syscall.SIGCONT))
	require.Contains(t, frozen.ask(t, "save late"), "not the etcd leader")
	require.Contains(t, frozen.ask(t, "stale late"), "leader key")
	resp, err := cli.Get(etcdtest.Context(t), p+"/groups/late")
	require.NoError(t, err)
	require.Empty(t, resp.Kvs, "the frozen leader's write was applied")
}

// TestLeadershipFailoverAfterKill9 measures kill -9 of the leading process →
// the waiting candidate leads, at the default 5s lease.
func TestLeadershipFailoverAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: each round waits for a 5s lease to expire")
	}
	cli := newClient(t)
	lab := sharedLab(t)
	const lease = 5 * time.Second
	const rounds = 3
	var took []time.Duration
	for r := range rounds {
		p := testPrefix(t, cli)
		holder := startCandidate(t, lab.Endpoints(t), p, fmt.Sprintf("holder%d", r), lease)
		require.Equal(t, "leader", holder.line(t))
		waiting := newLeadership(t, cli, p, "waiting", func(o *LeadershipOptions) { o.LeaseDuration = lease })
		require.Eventually(t, func() bool {
			_, h, _, err := check(t, waiting)
			return err == nil && h != ""
		}, 5*time.Second, 10*time.Millisecond)
		require.NoError(t, holder.cmd.Process.Kill())
		killed := time.Now()
		requireLeader(t, waiting, lease+5*time.Second)
		took = append(took, time.Since(killed))
		require.NoError(t, waiting.Close())
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("kill -9 of the leading process → other candidate leads (lease %s, %d rounds): min %s, max %s",
		lease, rounds, took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
}

// TestLeadershipSurvivesEtcdLeaderKill: killing the etcd Raft leader member
// does not change which manager leads.
func TestLeadershipSurvivesEtcdLeaderKill(t *testing.T) {
	cli := newClient(t)
	lab := sharedLab(t)
	p := testPrefix(t, cli)
	l := newLeadership(t, cli, p, "m1", func(o *LeadershipOptions) { o.LeaseDuration = 5 * time.Second })
	var changes []string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	requireLeader(t, l, 5*time.Second)
	f, err := l.Fence()
	require.NoError(t, err)
	go func() {
		defer close(done)
		_ = l.Watch(ctx, func() {
			if st, err := l.Check(ctx); err != nil || !st.Leader {
				changes = append(changes, fmt.Sprintf("leader=%v err=%v", st.Leader, err))
			}
		})
	}()
	raftLeader := lab.Leader(t)
	lab.Kill(t, raftLeader)
	killed := time.Now()
	s := newStore(t, cli, p, l)
	require.Eventually(t, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		defer wcancel()
		_, _, err := sources.Update(wctx, s, func(c *sources.Config) error {
			c.Groups["x"] = sourcestest.SampleEntry("x")
			return nil
		})
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	t.Logf("kill -9 of the etcd Raft leader member → fenced commit again after %s", time.Since(killed).Round(time.Millisecond))
	lab.Start(t, raftLeader)
	cancel()
	<-done
	require.Empty(t, changes, "manager leadership wavered")
	f2, err := l.Fence()
	require.NoError(t, err)
	require.Equal(t, f, f2, "the election key changed")
}
