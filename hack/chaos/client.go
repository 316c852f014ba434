package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/infrakit-manager/manager/internal/invariant"
	"github.com/infrakit-manager/manager/plugin"
)

// groups is the pool clients pick from: small, so calls collide.
var groups = []string{"g0", "g1", "g2", "g3", "g4", "g5"}

// clients runs n clients until ctx is done. Each picks a group no other
// call is busy with, commits (60%), destroys (30%) or frees it through the
// manager the run believes leads (mostly) or any other.
func (c *chaos) clients(ctx context.Context, n int) {
	var mu sync.Mutex
	busy := map[string]bool{}
	version := 0
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				g := groups[c.cli.intn(len(groups))]
				mu.Lock()
				if busy[g] {
					mu.Unlock()
					sleep(ctx, 10*time.Millisecond)
					continue
				}
				busy[g] = true
				version++
				v := fmt.Sprintf("v%d", version)
				mu.Unlock()
				c.call(g, v)
				mu.Lock()
				delete(busy, g)
				mu.Unlock()
				sleep(ctx, c.cli.between(20*time.Millisecond, 200*time.Millisecond))
			}
		}()
	}
	wg.Wait()
}

// call makes one request and records it.
func (c *chaos) call(g, version string) {
	via := c.cli.intn(len(c.nodes))
	if h := c.cl.holder(); h != "" && c.cli.intn(5) != 0 {
		for i, n := range c.nodes {
			if n.name == h {
				via = i
			}
		}
	}
	var kind invariant.Kind
	switch x := c.cli.intn(10); {
	case x < 6:
		kind = invariant.Commit
	case x < 9:
		kind = invariant.Destroy
	default:
		kind = invariant.Free
	}
	cl := c.client(via)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := c.rec.begin(invariant.Request{Group: g, Kind: kind, Version: version, Via: c.nodes[via].name})
	var err error
	switch kind {
	case invariant.Commit:
		_, err = cl.CommitGroup(ctx, invariant.GroupSpec(g, version, false), false)
	case invariant.Destroy:
		err = cl.DestroyGroup(ctx, plugin.ID(g))
	default:
		err = cl.FreeGroup(ctx, plugin.ID(g))
	}
	c.rec.answered(q, invariant.Classify(err))
}
