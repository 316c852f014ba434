package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Rivals counts the other candidates waiting in the election (a linearizable
// read, bounded by CallTimeout): the replicas that can take over at once.
func (l *Leadership) Rivals(ctx context.Context) (int, error) {
	l.mu.Lock()
	own := l.fence.Key
	l.mu.Unlock()
	gctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(ctx), l.opts.CallTimeout)
	defer cancel()
	r, err := l.cli.Get(gctx, l.keys.election(), clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return 0, fmt.Errorf("read the election at %s: %w", l.endpoints(), err)
	}
	n := 0
	for _, kv := range r.Kvs {
		if string(kv.Key) != own {
			n++
		}
	}
	return n, nil
}

// Resign makes Check answer "not leader" (Status.Reason "handing over")
// from now on, and pokes Watch, so that the controller steps down and frees
// its groups while this manager still holds the election key: nobody else
// can commit them yet. Close then revokes the lease and the next candidate
// leads at once. There is no way back: call it only when shutting down.
func (l *Leadership) Resign() {
	l.mu.Lock()
	l.resigned = true
	l.mu.Unlock()
	l.log.Info("etcd leadership resigned: handing over")
	l.changed()
}
