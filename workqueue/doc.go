// Package workqueue is a generic, deduplicating FIFO work queue for
// level-triggered controllers: callers add keys, workers Get a key, act on it
// and call Done.
//
// Guarantees: a key pending in the queue is held once however often it is
// added; a key is never handed to two workers at once (a key added while it
// is being processed is handed out again, once, after Done); distinct keys
// come out in the order they became ready, within three lanes served in
// order: AddFirst (work someone waits for), Add, AddBack (work that must
// never delay the rest). Adding a pending key to an earlier lane moves it
// there; to a later lane leaves it in place. AddAfter and AddRateLimited delay
// a key on an injected clock, with per-key exponential backoff that Forget
// resets.
//
// Limits: the queue lives in memory only and forgets everything on
// ShutDown; it carries keys, not payloads, so a worker must re-read state for
// its key. One background goroutine serves delayed keys from New until
// ShutDown, so every queue must be shut down. Backoff counters are kept until
// Forget, so callers must Forget a key once it succeeds or is deleted.
// With a FakeClock, a Step is honoured even when it races the queue arming
// its timer, provided the step exceeds 100µs. The package
// imports nothing from this module.
package workqueue
