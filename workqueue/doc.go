// Package workqueue is a generic, deduplicating FIFO work queue for
// level-triggered controllers: callers add keys, workers Get a key, act on it
// and call Done.
//
// Guarantees: a key pending in the queue is held once however often it is
// added; a key is never handed to two workers at once (a key added while it
// is being processed is handed out again, once, after Done); distinct keys
// come out in the order they became ready. AddAfter and AddRateLimited delay
// a key on an injected clock, with per-key exponential backoff that Forget
// resets.
//
// Shutdown follows client-go: ShutDown ignores later adds and drops delayed
// keys, Get keeps handing out the keys already pending and then reports
// shutdown, and ShutDownWithDrain also waits until no key is being
// processed.
//
// Limits: the queue lives in memory only; it carries keys, not payloads, so
// a worker must re-read state for its key. It starts no goroutine: each
// delayed key waits on its own timer of the injected clock (AfterFunc),
// armed by AddAfter before it returns, so a delay is measured from that
// call; ShutDown stops them. Backoff counters are kept until Forget, so
// callers must Forget a key once it succeeds or is deleted. The package
// imports nothing from this module.
package workqueue
