package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// slowClients keeps n connections open to path that send a request's
// headers one byte every interval, reconnecting when the server drops them,
// until stop. It returns the number of dials made so far.
func slowClients(t *testing.T, path string, n int, interval time.Duration, stop <-chan struct{}) *atomic.Int64 {
	t.Helper()
	var dials atomic.Int64
	header := []byte("POST / HTTP/1.1\r\nHost: manager\r\nContent-Type: application/json\r\nX-Slow: " + strings.Repeat("s", 4096))
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				conn, err := net.DialTimeout("unix", path, time.Second)
				dials.Add(1)
				if err != nil {
					select {
					case <-stop:
						return
					case <-time.After(interval):
					}
					continue
				}
				for i := 0; ; i++ {
					if _, err := conn.Write(header[i%len(header) : i%len(header)+1]); err != nil {
						break
					}
					select {
					case <-stop:
						_ = conn.Close()
						return
					case <-time.After(interval):
					}
				}
				_ = conn.Close()
			}
		}()
	}
	t.Cleanup(wg.Wait)
	return &dials
}

// TestHostileSlowClients: 300 clients trickle their requests to a manager
// limited to 256 descriptors. The manager stays below its descriptor limit
// (it caps connections and sheds the oldest slow ones), logs the cap once,
// and answers a commit.
func TestHostileSlowClients(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManagerWith(binary(t, "infrakit-manager"), 256)
	limits := readFile(t, fmt.Sprintf("/proc/%d/limits", a.mgr.Pid()))
	require.Regexp(t, `Max open files\s+256\s+256`, limits)
	before := statsOf(t, a.mgr.Pid())

	stop := make(chan struct{})
	dials := slowClients(t, a.socket(), 300, 200*time.Millisecond, stop)
	defer close(stop)
	require.Eventually(t, func() bool { return dials.Load() >= 300 }, eventually, tick, "the slow clients did not connect")
	maxFDs := 0
	sample := func() {
		if s := statsOf(t, a.mgr.Pid()); s.fds > maxFDs {
			maxFDs = s.fds
		}
	}
	for range 10 { // let them settle in, watching the descriptors
		sample()
		time.Sleep(100 * time.Millisecond)
	}

	mgr := plugin.NewClient(a.socket(), plugin.ClientOptions{Timeout: faultCallTimeout})
	defer mgr.Close()
	start := time.Now()
	_, err := mgr.CommitGroup(t.Context(), faultSpec("answered"), false)
	took := time.Since(start)
	require.NoError(t, err, "a commit was not answered beside 300 slow clients")
	start = time.Now()
	groups, _ := strictInspect(t, a.socket())
	lsTook := time.Since(start)
	sample()
	during := statsOf(t, a.mgr.Pid())
	require.False(t, a.mgr.exited())
	require.Less(t, maxFDs, 256, "the manager reached its descriptor limit")
	require.True(t, storedIDs(t, c.storePath())["answered"])
	require.Eventually(t, func() bool {
		return strings.Count(a.mgr.Stderr(), "connection cap reached") == 1
	}, eventually, tick, "the cap is logged once")
	t.Logf("FIGURE commit answered in %s (ls %d groups in %s) while 300 slow clients are connected under RLIMIT_NOFILE=256: "+
		"%d dials so far, manager at most %d fds (cap %d connections); %s -> %s",
		took.Round(time.Millisecond), groups, lsTook.Round(time.Millisecond), dials.Load(), maxFDs,
		(256-64)/2, before, during)
	require.Equal(t, 0, a.mgr.Stop())
}

// TestHostileNonReadingClients: with a 15 MB store, 50 clients ask for
// InspectGroups and never read the answer. The manager streams answers spec
// by spec and drops a client after 10s without progress; its RSS is printed
// before, at the peak and after, and other clients are served meanwhile.
func TestHostileNonReadingClients(t *testing.T) {
	c := newOSCluster(t, nameA)
	// 15 groups of 1 MB each, written as the manager writes them.
	cfg := sources.Config{Groups: map[plugin.ID]sources.Entry{}}
	for i := range 15 {
		spec := plugin.Spec{ID: plugin.ID(fmt.Sprintf("big-%02d", i)), Properties: groupProps(`"` + strings.Repeat("b", 1_000_000) + `"`)}
		require.NoError(t, plugin.DefaultLimits().CheckSpec(spec))
		whole, err := json.Marshal(spec)
		require.NoError(t, err)
		cfg.Groups[spec.ID] = sources.Entry{Plugin: downstream, Properties: whole}
	}
	data, err := sources.EncodeConfig(cfg)
	require.NoError(t, err)
	writeFileAtomic(t, c.storePath(), data)
	a := c.node(nameA)
	// Both without the race detector, and no 500ms resync of 15 MB: the
	// figures are about the clients, not about a loaded downstream.
	a.sim = startProc(t, noRaceBinary(t, "infrakit-group-sim"), nil, "--plugin-dir", a.dir, "--name", downstream)
	waitSocket(t, a.downstreamSocket(), a.sim)
	a.startManagerWith(noRaceBinary(t, "infrakit-manager"), 0, "--resync-interval", "1m")
	_, size := strictInspect(t, a.socket())
	mgr := plugin.NewClient(a.socket(), plugin.ClientOptions{Timeout: faultCallTimeout})
	defer mgr.Close()
	start := time.Now()
	_, err = mgr.CommitGroup(t.Context(), faultSpec("baseline"), false)
	require.NoError(t, err)
	baseline := time.Since(start)
	before := statsOf(t, a.mgr.Pid())

	req := rawPost(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":1}`)
	var conns []net.Conn
	for range 50 {
		conn, err := net.Dial("unix", a.socket())
		require.NoError(t, err)
		conns = append(conns, conn)
		_, err = conn.Write(req)
		require.NoError(t, err)
	}
	peak := before // the largest RSS and, separately, the most descriptors seen
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		s := statsOf(t, a.mgr.Pid())
		peak.rssKB, peak.fds = max(peak.rssKB, s.rssKB), max(peak.fds, s.fds)
		time.Sleep(50 * time.Millisecond)
	}
	require.GreaterOrEqual(t, peak.fds, before.fds+50, "the 50 clients were not all connected")
	start = time.Now()
	_, err = mgr.CommitGroup(t.Context(), faultSpec("beside-non-readers"), false)
	require.NoError(t, err)
	commitTook := time.Since(start)
	groups, _ := strictInspect(t, a.socket())
	require.Equal(t, 17, groups)

	// The server drops them (10s without progress) and frees their answers.
	require.Eventually(t, func() bool { return statsOf(t, a.mgr.Pid()).fds <= before.fds+2 }, 30*time.Second, 100*time.Millisecond,
		"the non-reading clients were never dropped")
	dropped := statsOf(t, a.mgr.Pid())
	// The fault happened: the clients the server dropped (all but the two
	// the descriptor count above allows) had part of an answer waiting unread
	// when it gave up on them: some bytes, then the end, never the whole.
	cut := 0
	for i, conn := range conns {
		got, closed := unreadBytes(t, conn)
		if closed {
			cut++
			require.Positive(t, got, "client %d: the server never started its answer", i)
			require.Less(t, got, int64(size), "client %d: the whole answer was buffered for a client that did not read", i)
		}
		_ = conn.Close()
	}
	require.GreaterOrEqual(t, cut, len(conns)-2, "the server dropped only %d of %d non-reading clients", cut, len(conns))
	require.False(t, a.mgr.exited())
	// The outcome: answers are streamed, not held whole per client. Holding
	// them would grow the manager by 50 answers; streaming by a few specs
	// each.
	grew := int64(peak.rssKB-before.rssKB) * 1024
	require.Less(t, grew, int64(50*size)/2, "the manager grew by %d MB with 50 non-readers of a %.1f MB answer", grew>>20, float64(size)/1e6)
	t.Logf("FIGURE RSS with 50 non-reading clients on a %.1f MB store (ls answer %.1f MB): %.1f MB before, %.1f MB peak (%d fds), %.1f MB after they were dropped (%d fds); "+
		"a commit beside them took %s (%s with none)",
		float64(fileSize(c.storePath()))/1e6, float64(size)/1e6, float64(before.rssKB)/1024, float64(peak.rssKB)/1024, peak.fds,
		float64(dropped.rssKB)/1024, dropped.fds, commitTook.Round(time.Millisecond), baseline.Round(time.Millisecond))
	require.Equal(t, 0, a.mgr.Stop())
}

// unreadBytes reads what the server left in conn for up to 2s and returns
// how much that was and whether the server had closed the connection.
func unreadBytes(t *testing.T, conn net.Conn) (int64, bool) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	n, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, false // still open: the server had not dropped it (yet)
	}
	return n, true
}

// rawPost is a raw HTTP/1.1 POST of body.
func rawPost(body string) []byte {
	return []byte(fmt.Sprintf("POST / HTTP/1.1\r\nHost: manager\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
}
