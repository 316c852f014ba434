package forward_test

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCommit compares a commit answered by the leader's layer with one
// a follower forwards to it, both over mutual TLS on loopback, with a fake
// local Group (no store, no downstream): the cost of the hop alone.
func BenchmarkCommit(b *testing.B) {
	for _, via := range []string{"leader", "follower"} {
		b.Run(via, func(b *testing.B) {
			dir, leader, follower := setup(b)
			n := leader
			if via == "follower" {
				n = follower
			}
			c := n.client(b, dir)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := c.CommitGroup(ctx, spec("warm"), false); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.CommitGroup(ctx, spec("a"), false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
