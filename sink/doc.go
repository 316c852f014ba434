// Package sink is the downstream group plugin as the controller sees it: the
// five Group calls, each bounded by a per-call timeout, with the plugin looked
// up by name in the plugin directory at every call (late binding), so a
// plugin that starts after the manager, or restarts, is found.
//
// Limits: it does not retry; retrying is the controller's work queue's job.
// A timed-out call may still have been applied by the plugin; callers must
// keep their calls idempotent (Commit and Free are).
package sink
