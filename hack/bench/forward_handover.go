package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infrakit-manager/manager/plugin"
)

// forwardHandover sends forwardHandoverCommits new groups through m3 while
// the leader file moves from m1 to m2 a quarter of the way in.
func (h *harness) forwardHandover(ctx context.Context, fc *forwardCluster) ([]row, error) {
	cl, err := fc.client(2)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var next, done atomic.Int64
	var mu sync.Mutex
	var errs []error
	acked := map[string]bool{}
	var flipErr error
	var wg sync.WaitGroup
	for range forwardHandoverClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= forwardHandoverCommits {
					return
				}
				id := fmt.Sprintf("h%03d", i)
				_, err := cl.CommitGroup(ctx, groupSpec(id, 1), false)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", id, err))
				} else {
					acked[id] = true
				}
				mu.Unlock()
				if done.Add(1) == forwardHandoverCommits/4 {
					_, flipErr = fc.setLeader("m2")
				}
			}
		}()
	}
	wg.Wait()
	if flipErr != nil {
		return nil, flipErr
	}
	if err := fc.waitLocation(ctx, 1); err != nil {
		return nil, err
	}
	stored, err := fc.storedIDs()
	if err != nil {
		return nil, err
	}
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
		}
	}
	// A duplicate is a group applied twice: its instances created twice
	// (each spec asks for one) on the new leader's downstream. Resent counts
	// commits the old leader stored but did not apply, sent to the new one
	// too (their "stored group" line is in two managers' logs): idempotent.
	re := regexp.MustCompile(`stored group\s+\{"group": "(h\d{3})"`)
	storedBy := map[string]int{}
	for _, n := range fc.nodes {
		out, err := os.ReadFile(n.mgr.output)
		if err != nil {
			return nil, err
		}
		for _, m := range re.FindAllStringSubmatch(string(out), -1) {
			storedBy[m[1]]++
		}
	}
	resent := 0
	for _, k := range storedBy {
		if k > 1 {
			resent++
		}
	}
	sim := plugin.NewClient(filepath.Join(fc.nodes[1].pluginDir, downstream), plugin.ClientOptions{Timeout: clientTimeout})
	defer sim.Close()
	dups := 0
	for id := range stored {
		if len(id) != 4 || id[0] != 'h' {
			continue
		}
		var d plugin.Description
		deadline := time.Now().Add(30 * time.Second)
		for {
			d, err = sim.DescribeGroup(ctx, plugin.ID(id))
			if err == nil && len(d.Instances) > 0 || time.Now().After(deadline) {
				break
			}
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return nil, err
			}
		}
		if err != nil {
			return nil, fmt.Errorf("describe %s on the new leader's downstream: %w", id, err)
		}
		if len(d.Instances) != 1 {
			dups++
		}
	}
	figure := fmt.Sprintf("%d commits through a follower, leader moved after %d: acknowledged %d, errors %d, duplicates %d, lost %d (commits stored by the old leader and resent to the new one, idempotent: %d)",
		forwardHandoverCommits, forwardHandoverCommits/4, len(acked), len(errs), dups, lost, resent)
	if len(errs) > 0 {
		figure += "; first error: " + errs[0].Error()
	}
	return []row{goalRow("forwarding during a handover", figure, "errors 0, duplicates 0, lost 0",
		len(errs) == 0 && dups == 0 && lost == 0, "")}, nil
}
