package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

const (
	// commitSlack is what a commit through the manager may cost beyond a
	// direct commit and one fsync.
	commitSlack = 500 * time.Microsecond
	// commitRounds interleaves direct and managed runs, so that a change
	// in the machine's load affects both alike.
	commitRounds = 4
	// clientTimeout bounds one commit.
	clientTimeout = 10 * time.Second
	// fsyncFileBytes is the size of the file the fsync probe writes.
	fsyncFileBytes = 4 << 10
)

// measureCommit names the row of the commit latency goal.
const measureCommit = "commit latency, 1 client, through the manager"

// direct is the second simulator's name: the commits that bypass the manager.
const direct = "direct"

// commitRun is one batch of commits by some clients.
type commitRun struct {
	lat  []time.Duration
	wall time.Duration
}

func (r *commitRun) add(o commitRun) {
	r.lat = append(r.lat, o.lat...)
	r.wall += o.wall
}

func (r commitRun) perSecond() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.wall.Seconds()
}

// commits measures commit latency through the manager and directly to an
// identical simulator in the same run, the fsync cost of the store's disk,
// and the manager's idle RSS.
//
// Each client re-commits one group of its own (c00, c01, …) with a new
// generation in its instance properties every time, so every commit through
// the manager changes the stored bytes and costs a real durable write.
func (h *harness) commits(ctx context.Context) ([]row, error) {
	c, err := h.newOSCluster("c")
	if err != nil {
		return nil, err
	}
	if _, err := c.setLeader("group"); err != nil {
		return nil, err
	}
	n := &osNode{name: "group", pluginDir: filepath.Join(c.dir, "p")}
	if err := os.MkdirAll(n.pluginDir, 0o700); err != nil {
		return nil, err
	}
	if n.sim, err = h.startSim(ctx, n.pluginDir, downstream); err != nil {
		return nil, err
	}
	defer n.stop()
	ds, err := h.startSim(ctx, n.pluginDir, direct)
	if err != nil {
		return nil, err
	}
	defer func() { _ = ds.stop() }()
	n.mgr, err = h.startProcess(ctx, filepath.Join(n.pluginDir, n.name), h.bin(binManager),
		"--name", n.name, "--plugin-dir", n.pluginDir,
		"os", "--leader-file", c.leaderFile, "--store-dir", c.storeDir, "--poll-interval", leaderPoll)
	if err != nil {
		return nil, err
	}

	// Idle: leading, nothing stored, left alone.
	if err := sleep(ctx, quiet); err != nil {
		return nil, err
	}
	idle, err := rssBytes(n.mgr.pid())
	if err != nil {
		return nil, err
	}

	managed := filepath.Join(n.pluginDir, n.name)
	bypass := filepath.Join(n.pluginDir, direct)
	// Warm up both paths (connections, handshakes, the store file).
	for _, sock := range []string{managed, bypass} {
		if _, err := h.commitBatch(ctx, sock, 1, 20, 0); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}

	fsyncDir := filepath.Join(c.dir, "fsync")
	if err := os.MkdirAll(fsyncDir, 0o700); err != nil {
		return nil, err
	}
	var fsyncs []time.Duration
	var d1, m1, dN, mN commitRun
	k := h.opts.ConcurrentClients
	gen := 100 // past the warm-up's generations
	for round := range commitRounds {
		f, err := fsyncCost(fsyncDir, h.opts.Fsyncs/commitRounds+1)
		if err != nil {
			return nil, err
		}
		fsyncs = append(fsyncs, f...)
		for _, run := range []struct {
			acc     *commitRun
			sock    string
			clients int
			each    int
		}{
			{&d1, bypass, 1, h.opts.Commits/commitRounds + 1},
			{&m1, managed, 1, h.opts.Commits/commitRounds + 1},
			{&dN, bypass, k, h.opts.CommitsPerClient/commitRounds + 1},
			{&mN, managed, k, h.opts.CommitsPerClient/commitRounds + 1},
		} {
			r, err := h.commitBatch(ctx, run.sock, run.clients, run.each, gen)
			gen += run.each
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", round+1, err)
			}
			run.acc.add(r)
		}
	}
	fs := summarize(fsyncs)
	sd1, sm1, sdN, smN := summarize(d1.lat), summarize(m1.lat), summarize(dN.lat), summarize(mN.lat)
	over := sm1.P50 - sd1.P50
	budget := fs.P50 + commitSlack
	h.log.Info("commits done", "direct", sd1.percentiles(), "managed", sm1.percentiles(), "fsync", fs.percentiles())
	return []row{
		infoRow("store disk: write+fsync+rename+dir-fsync of a 4 KiB file", fs.percentiles(), ""),
		infoRow("commit latency, 1 client, direct to the sim", sd1.percentiles(), ""),
		goalRow(measureCommit, sm1.percentiles()+
			fmt.Sprintf("; p50 over direct: %s", ms(over)),
			fmt.Sprintf("p50 within fsync p50 + 0.5 ms of direct (%s)", ms(budget)), over <= budget, ""),
		goalRow(measureEmptyCommit, sm1.percentiles(), "p50 ≤ "+ms(emptyCommitGoal), sm1.P50 <= emptyCommitGoal, ""),
		infoRow(fmt.Sprintf("commit latency, %d clients, direct to the sim", k), sdN.percentiles(), ""),
		infoRow(fmt.Sprintf("commit latency, %d clients, through the manager", k), smN.percentiles(), ""),
		infoRow("commit throughput, 1 client (direct / manager)",
			fmt.Sprintf("%.0f/s / %.0f/s", d1.perSecond(), m1.perSecond()), ""),
		infoRow(fmt.Sprintf("commit throughput, %d clients (direct / manager)", k),
			fmt.Sprintf("%.0f/s / %.0f/s", dN.perSecond(), mN.perSecond()), ""),
		goalRow("manager RSS idle (leading, no groups)", mib(idle), "< "+mib(rssIdleGoal), idle < rssIdleGoal, ""),
	}, nil
}

// commitBatch runs clients concurrent clients, each with its own connection,
// each committing its own group each times with rising generations.
func (h *harness) commitBatch(ctx context.Context, socket string, clients, each, gen int) (commitRun, error) {
	var (
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, clients*each)
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := plugin.NewClient(socket, plugin.ClientOptions{Timeout: clientTimeout})
			defer cl.Close()
			id := fmt.Sprintf("c%02d", k)
			mine := make([]time.Duration, 0, each)
			for i := range each {
				t := time.Now()
				if _, err := cl.CommitGroup(ctx, groupSpec(id, gen+i), false); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("commit %s to %s: %w", id, socket, err))
					lat = append(lat, mine...) // the ones timed before it
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return commitRun{lat: lat, wall: time.Since(start)}, errors.Join(errs...)
}

// fsyncCost times n durable replacements of a small file in dir, the way
// the file store saves: write a temp file, fsync it, rename it over the
// file, fsync the directory.
func fsyncCost(dir string, n int) ([]time.Duration, error) {
	return fsyncCostOf(dir, fsyncFileBytes, n)
}

// fsyncCostOf is fsyncCost for a file of size bytes.
func fsyncCostOf(dir string, size, n int) ([]time.Duration, error) {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	path := filepath.Join(dir, "probe")
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := replaceDurably(dir, path, data); err != nil {
			return nil, fmt.Errorf("fsync probe: %w", err)
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

func replaceDurably(dir, path string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
