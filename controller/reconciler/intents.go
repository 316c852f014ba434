package reconciler

import (
	"sync"

	"github.com/infrakit-manager/manager/controller/submit"
	"github.com/infrakit-manager/manager/plugin"
)

// op is what a user asked the Group API to do with one group.
type op = submit.Op

const (
	opCommit  = submit.Commit
	opFree    = submit.Free
	opDestroy = submit.Destroy
)

// outcome is the reconciler's answer to one intent.
type outcome struct {
	details string
	err     error
}

// intent is a user's request for one group, recorded by submit together
// with the store write (storeMu held) and carried out by the reconciler,
// the only actor on the downstream. It carries the waiters; what must
// outlive this process (a destroy) is in the store itself. wasStored says
// whether the group was stored (or its destroy pending) before a free or
// destroy: a plugin that does not run it then answers success.
type intent struct {
	op        op
	wasStored bool
	since     uint64 // observed's sequence before the store write
	waiters   []chan outcome
}

// intents holds the pending intent of each group. A newer request for a
// group replaces the older one (whose waiters are told so). A destroy
// stays until it succeeds or leadership ends: it is never turned into a
// free.
type intents struct {
	mu sync.Mutex
	m  map[plugin.ID]*intent
}

func newIntents() *intents { return &intents{m: map[plugin.ID]*intent{}} }

// record sets the intent for id and returns the channel its outcome
// arrives on. since is observed's sequence taken before the store write: a
// commit of the same spec the loop made after it answers a commit intent.
func (in *intents) record(id plugin.ID, o op, wasStored bool, since uint64) <-chan outcome {
	ch := make(chan outcome, 1)
	in.mu.Lock()
	defer in.mu.Unlock()
	if old, ok := in.m[id]; ok && old.op != o {
		for _, w := range old.waiters {
			w <- outcome{err: submit.ErrSuperseded}
		}
		old.waiters = nil
	}
	cur, ok := in.m[id]
	if !ok || cur.op != o {
		cur = &intent{op: o}
		in.m[id] = cur
	}
	cur.wasStored = cur.wasStored || wasStored
	if len(cur.waiters) == 0 || since < cur.since {
		cur.since = since
	}
	cur.waiters = append(cur.waiters, ch)
	return ch
}

// take returns the pending intent for id with its waiters, which the
// caller must answer. Commits and frees are taken out; a destroy stays (with
// no waiters) until done.
func (in *intents) take(id plugin.ID) (intent, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	cur, ok := in.m[id]
	if !ok {
		return intent{}, false
	}
	got := *cur
	cur.waiters = nil
	if cur.op != opDestroy {
		delete(in.m, id)
	}
	return got, true
}

// done drops a destroy intent once it succeeded or leadership ended.
func (in *intents) done(id plugin.ID, o op) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if cur, ok := in.m[id]; ok && cur.op == o && len(cur.waiters) == 0 {
		delete(in.m, id)
	}
}

// has reports whether id has a pending intent.
func (in *intents) has(id plugin.ID) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, ok := in.m[id]
	return ok
}

// keys returns the groups with a pending intent.
func (in *intents) keys() []plugin.ID {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]plugin.ID, 0, len(in.m))
	for id := range in.m {
		out = append(out, id)
	}
	return out
}

// answer sends o to every waiter of it.
func (it intent) answer(o outcome) {
	for _, w := range it.waiters {
		w <- o
	}
}
