package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

const (
	// scaleGroups is the stored-group count of the idle and resync rows.
	scaleGroups = 10000
	// idleWindow is how long the idle leader's CPU is read (scaled to a
	// minute in the row).
	idleWindow = 30 * time.Second
	// idleGoal: CPU an idle leader of scaleGroups groups uses per minute.
	idleGoal = 1500 * time.Millisecond
	// resyncGoal: one resync of scaleGroups in-sync groups.
	resyncGoal = 200 * time.Millisecond
	// resyncRuns is how many resyncs are timed.
	resyncRuns = 3
	// unknownFrees, unknownClients: the unknown-ID free row.
	unknownFrees   = 20000
	unknownClients = 16
	// unknownRSSGoal bounds the RSS growth after the unknown-ID frees, read
	// quietLong after the last.
	unknownRSSGoal = 8 << 20
	quietLong      = 10 * time.Second
)

// scale measures the rows of issue 17 in os mode: an idle leader of 10,000
// groups in sync (CPU per minute), one resync of them, 20,000 frees of
// unknown IDs (RSS growth, store writes) and a phantom flood (phantom.go).
func (h *harness) scale(ctx context.Context) ([]row, error) {
	var rows []row
	if h.scaleRow("idle") || h.scaleRow("resync") || h.scaleRow("commit") || h.scaleRow("frees") {
		r, err := h.scaleLeader(ctx)
		if rows = append(rows, r...); err != nil {
			return rows, err
		}
	}
	if h.scaleRow("phantom") {
		r, err := h.phantomFlood(ctx)
		if rows = append(rows, r...); err != nil {
			return rows, err
		}
	}
	if h.scaleRow("answer") {
		r, err := h.bigAnswer(ctx)
		if rows = append(rows, r...); err != nil {
			return rows, err
		}
	}
	if h.scaleRow("takeovers") {
		r, err := h.scaleTakeovers(ctx)
		rows = append(rows, r...)
		return rows, err
	}
	return rows, nil
}

// scaleRow reports whether the scale section measures the named row.
func (h *harness) scaleRow(name string) bool {
	return len(h.opts.ScaleRows) == 0 || slices.Contains(h.opts.ScaleRows, name)
}

// scaleLeader measures the rows of a leader holding scaleGroups groups:
// idle CPU, resyncs, commits and InspectGroups, unknown-ID frees.
func (h *harness) scaleLeader(ctx context.Context) ([]row, error) {
	c, err := h.newOSCluster("sc")
	if err != nil {
		return nil, err
	}
	if _, err := c.store(scaleGroups); err != nil {
		return nil, err
	}
	if _, err := c.setLeader("group"); err != nil {
		return nil, err
	}
	t0 := time.Now().UnixNano()
	n, err := c.node(ctx, "group")
	if err != nil {
		return nil, err
	}
	defer n.stop()
	if _, err := n.events.waitDistinct(ctx, match{since: t0, op: "commit"}, scaleGroups, time.Minute); err != nil {
		return nil, fmt.Errorf("initial takeover: %w", err)
	}
	addr, err := metricsAddr(ctx, n.mgr)
	if err != nil {
		return nil, err
	}
	// Let the first resync after the takeover find everything in sync.
	if err := sleep(ctx, 12*time.Second); err != nil {
		return nil, err
	}
	var rows []row
	if h.scaleRow("idle") {
		before, err := cpuTime(n.mgr.pid())
		if err != nil {
			return nil, err
		}
		if err := sleep(ctx, idleWindow); err != nil {
			return nil, err
		}
		after, err := cpuTime(n.mgr.pid())
		if err != nil {
			return nil, err
		}
		perMin := (after - before) * time.Duration(time.Minute/idleWindow)
		rows = append(rows, goalRow(fmt.Sprintf("idle leader, %d groups in sync (default --resync-interval 10s), manager CPU per minute", scaleGroups),
			fmt.Sprintf("%s (%s in %s)", ms(perMin), ms(after-before), idleWindow), "<= "+ms(idleGoal), perMin <= idleGoal, ""))
	}
	if h.scaleRow("resync") {
		rows = append(rows, h.resyncRow(ctx, n, addr))
	}
	if h.scaleRow("commit") {
		r, err := h.scaleCommitRows(ctx, c, n)
		if rows = append(rows, r...); err != nil {
			return rows, err
		}
	}
	if h.scaleRow("frees") {
		r, err := h.unknownFrees(ctx, c.storeDir, filepath.Join(n.pluginDir, n.name), n.mgr.pid(), scaleGroups, false)
		if rows = append(rows, r...); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// resyncRow times resyncRuns resyncs of the leader n (metrics at addr).
func (h *harness) resyncRow(ctx context.Context, n *osNode, addr string) row {
	measure := fmt.Sprintf("one resync of %d in-sync groups (SIGHUP to the last of %d reconciles; %d runs)", scaleGroups, scaleGroups, resyncRuns)
	var resyncs []time.Duration
	mgrCPU, simCPU := cpuMeter(n.mgr.pid()), cpuMeter(n.sim.pid())
	for range resyncRuns {
		d, err := timeResync(ctx, n.mgr, addr, scaleGroups)
		if err != nil {
			return failRow(measure, fmt.Errorf("resync: %w", err))
		}
		resyncs = append(resyncs, d)
	}
	rs := summarize(resyncs)
	return goalRow(measure,
		fmt.Sprintf("median %s, max %s (CPU for all %d: manager %s, sim %s)", ms(rs.P50), ms(rs.Max), resyncRuns, mgrCPU(), simCPU()),
		"<= "+ms(resyncGoal), rs.Max <= resyncGoal, "")
}

// timeResync sends SIGHUP and waits until want more reconciles are counted.
func timeResync(ctx context.Context, p *proc, addr string, want int) (time.Duration, error) {
	base, err := reconciles(addr)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return 0, err
	}
	deadline := start.Add(time.Minute)
	for {
		n, err := reconciles(addr)
		if err != nil {
			return 0, err
		}
		if n >= base+want {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d of %d reconciles within a minute", n-base, want)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// reconciles reads controller_runtime_reconcile_total, all results, from
// http://addr/metrics.
func reconciles(addr string) (int, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "controller_runtime_reconcile_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics: %q: %w", line, err)
		}
		total += int(v)
	}
	return total, sc.Err()
}

// unknownFrees sends unknownFrees FreeGroup calls naming groups that were
// never stored nor run, from unknownClients clients, and reads the RSS
// growth and whether the store file was written.
func (h *harness) unknownFrees(ctx context.Context, storeDir, sock string, pid, stored int, goal bool) ([]row, error) {
	storeFile := filepath.Join(storeDir, "global.config")
	st0, err := os.Stat(storeFile)
	if err != nil {
		return nil, err
	}
	rss0, err := rssBytes(pid)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	for k := range unknownClients {
		wg.Go(func() {
			cl := plugin.NewClient(sock, plugin.ClientOptions{Timeout: clientTimeout})
			defer cl.Close()
			for i := k; i < unknownFrees; i += unknownClients {
				err := cl.FreeGroup(ctx, plugin.ID(fmt.Sprintf("unknown%06d", i)))
				if err == nil || !strings.Contains(err.Error(), "is not being watched") {
					mu.Lock()
					errs = append(errs, fmt.Errorf("free of an unknown group: got %v, want the plugin's 'not being watched'", err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := sleep(ctx, quietLong); err != nil {
		return nil, err
	}
	rss1, err := rssBytes(pid)
	if err != nil {
		return nil, err
	}
	st1, err := os.Stat(storeFile)
	if err != nil {
		return nil, err
	}
	writes := "0 store writes"
	written := !st1.ModTime().Equal(st0.ModTime()) || !os.SameFile(st0, st1)
	if written {
		writes = "the store file was written"
	}
	growth := rss1 - rss0
	figure := fmt.Sprintf("RSS %s -> %s (%+.1f MiB); %s; %s for all (%d clients)",
		mib(rss0), mib(rss1), float64(growth)/(1<<20), writes, ms(took), unknownClients)
	measure := fmt.Sprintf("%d unknown-ID frees, manager holding %d groups (RSS %s after the last)", unknownFrees, stored, quietLong)
	if !goal {
		return []row{infoRow(measure, figure, "")}, nil
	}
	return []row{goalRow(measure, figure, "RSS growth <= "+mib(unknownRSSGoal)+"; 0 store writes", growth <= unknownRSSGoal && !written, "")}, nil
}
