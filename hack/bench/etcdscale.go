package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// etcdScaleCommits is the number of 1-client commits timed at each count.
const etcdScaleCommits = 20

// etcdScale is the etcd scale model: for each count, the groups are
// imported, a manager leads them, commits through it are timed and its RSS
// read, then it resigns (SIGTERM) and a second manager takes over every
// group. Figures only: the curve from 1,000 to 100,000 groups.
func (h *harness) etcdScale(ctx context.Context) ([]row, error) {
	l, down, err := h.etcdLabUp(ctx, "etcdscale")
	defer down()
	if err != nil {
		return nil, err
	}
	out, err := l.run(ctx, 10*time.Second, "endpoints")
	if err != nil {
		return nil, err
	}
	endpoints := strings.Split(out, ",")
	var rows []row
	counts := h.opts.EtcdScale
	if len(counts) == 0 {
		counts = []int{1000, 10000, 100000}
	}
	for _, count := range counts {
		r, err := h.etcdScaleOne(ctx, endpoints, count)
		h.procs.closeAll()
		if err != nil {
			return append(rows, failRow(etcdScaleMeasure(count), err)), err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func etcdScaleMeasure(count int) string {
	return fmt.Sprintf("etcd scale model, %d groups (3-member lab): import; takeover (SIGTERM of the leader to the last commit); commit p50, 1 client; manager RSS", count)
}

func (h *harness) etcdScaleOne(ctx context.Context, endpoints []string, count int) (row, error) {
	prefix := fmt.Sprintf("/scale/%d", count)
	imported, err := h.importGroups(ctx, endpoints, prefix, count)
	if err != nil {
		return row{}, fmt.Errorf("import: %w", err)
	}
	cli, err := newEtcdClient(endpoints)
	if err != nil {
		return row{}, err
	}
	defer cli.Close()
	wait := 30*time.Second + time.Duration(count)*5*time.Millisecond
	a, err := h.etcdNodeOf(ctx, endpoints, prefix, fmt.Sprintf("sa%d", count), false)
	if err != nil {
		return row{}, err
	}
	defer a.stop()
	if _, err := waitHolder(ctx, cli, prefix, []*etcdNode{a}, etcdEventWait); err != nil {
		return row{}, err
	}
	if _, err := a.events.waitDistinct(ctx, match{op: "commit"}, count, wait); err != nil {
		return row{}, fmt.Errorf("first leader: %w", err)
	}
	b, err := h.etcdNodeOf(ctx, endpoints, prefix, fmt.Sprintf("sb%d", count), false)
	if err != nil {
		return row{}, err
	}
	defer b.stop()
	if _, err := h.commitBatch(ctx, a.socket(), 1, 5, 0); err != nil {
		return row{}, fmt.Errorf("warm-up: %w", err)
	}
	run, err := h.commitBatch(ctx, a.socket(), 1, etcdScaleCommits, 100)
	if err != nil {
		return row{}, err
	}
	if err := sleep(ctx, quiet); err != nil {
		return row{}, err
	}
	rssLeader, err := rssBytes(a.mgr.pid())
	if err != nil {
		return row{}, err
	}
	if err := sleep(ctx, time.Second); err != nil { // b past its first sync
		return row{}, err
	}
	mgrCPU := cpuMeter(b.mgr.pid())
	t0 := time.Now().UnixNano()
	if err := a.mgr.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return row{}, err
	}
	last, err := b.events.waitDistinct(ctx, match{since: t0, op: "commit"}, count+1, wait)
	if err != nil {
		return row{}, fmt.Errorf("takeover: %w", err)
	}
	took := time.Duration(last - t0)
	if err := sleep(ctx, quiet); err != nil {
		return row{}, err
	}
	rssB, err1 := rssBytes(b.mgr.pid())
	peakB, err2 := statusBytes(b.mgr.pid(), "VmHWM")
	if err1 != nil || err2 != nil {
		return row{}, fmt.Errorf("rss: %v %v", err1, err2)
	}
	s := summarize(run.lat)
	h.log.Info("etcd scale done", "groups", count, "takeover", ms(took))
	return infoRow(etcdScaleMeasure(count), fmt.Sprintf("import %s; takeover %s (new leader's CPU %s); commit %s; RSS leader %s, new leader %s (peak %s)",
		ms(imported), ms(took), mgrCPU(), s.percentiles(), mib(rssLeader), mib(rssB), mib(peakB)), ""), nil
}
