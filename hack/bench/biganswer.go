package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

const (
	// bigAnswerBytes is the size of the oversized InspectGroups answer.
	bigAnswerBytes = 300 << 20
	// answerCap is the client's cap on one answer (plugin.maxResponseBytes).
	answerCap = 64 << 20
	// bigAnswerFor is how long the downstream answers oversized.
	bigAnswerFor = 10 * time.Second
)

// bigDownstream is a raw JSON-RPC group plugin: it answers the handshake,
// "not being watched" to every group call, and InspectGroups with no
// groups, or, once big is set, with bigAnswerBytes of groups written as a
// stream (never held in memory).
type bigDownstream struct {
	big atomic.Bool
}

func (d *bigDownstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Method string          `json:"method"`
		ID     json.RawMessage `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch req.Method {
	case "Plugin.Implements":
		fmt.Fprintf(w, `{"jsonrpc":"2.0","result":{"APIs":[{"Name":"Group","Version":"0.1.0"}]},"id":%s}`, req.ID)
	case "Group.InspectGroups":
		if !d.big.Load() {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","result":{"Groups":null},"id":%s}`, req.ID)
			return
		}
		written, _ := fmt.Fprint(w, `{"jsonrpc":"2.0","result":{"Groups":[`)
		buf := make([]byte, 0, 512)
		for i := 0; written < bigAnswerBytes; i++ {
			buf = fmt.Appendf(buf[:0], `{"ID":"big%08d","Properties":{"Allocation":{"Size":1},"Instance":{"Plugin":"i","Properties":{"Note":"%0200d"}}}},`, i, i)
			n, err := w.Write(buf)
			if err != nil {
				return // the client gave up (past its cap)
			}
			written += n
		}
		fmt.Fprintf(w, `{"ID":"last"}]},"id":%s}`, req.ID)
	default:
		fmt.Fprintf(w, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"Group 'x' is not being watched"},"id":%s}`, req.ID)
	}
}

// bigAnswer: a leading manager with nothing stored whose downstream answers
// InspectGroups with bigAnswerBytes for bigAnswerFor (the manager retries
// the failed sync all along). The row is the manager's peak RSS against
// twice the cap plus its idle RSS.
func (h *harness) bigAnswer(ctx context.Context) ([]row, error) {
	measure := fmt.Sprintf("%d MB InspectGroups answer for %s (cap %d MiB): manager peak RSS", bigAnswerBytes>>20, bigAnswerFor, answerCap>>20)
	c, err := h.newOSCluster("big")
	if err != nil {
		return nil, err
	}
	if _, err := c.setLeader("group"); err != nil {
		return nil, err
	}
	pluginDir := filepath.Join(c.dir, "p")
	if err := os.MkdirAll(pluginDir, 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", filepath.Join(pluginDir, downstream))
	if err != nil {
		return nil, err
	}
	d := &bigDownstream{}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	mgr, err := h.startProcess(ctx, filepath.Join(pluginDir, "group"), h.bin(binManager),
		"--name", "group", "--plugin-dir", pluginDir,
		"os", "--leader-file", c.leaderFile, "--store-dir", c.storeDir, "--poll-interval", leaderPoll)
	if err != nil {
		return nil, err
	}
	defer func() { _ = mgr.stop() }()
	if err := sleep(ctx, quiet); err != nil {
		return nil, err
	}
	idle, err := rssBytes(mgr.pid())
	if err != nil {
		return nil, err
	}
	d.big.Store(true)
	if err := sleep(ctx, bigAnswerFor); err != nil {
		return nil, err
	}
	d.big.Store(false)
	peak, err := statusBytes(mgr.pid(), "VmHWM")
	if err != nil {
		return nil, err
	}
	goal := 2*int64(answerCap) + idle
	return []row{goalRow(measure, fmt.Sprintf("peak %s (idle %s)", mib(peak), mib(idle)),
		fmt.Sprintf("<= 2x the cap + idle (%s)", mib(goal)), peak <= goal, "")}, nil
}

var _ http.Handler = (*bigDownstream)(nil)
