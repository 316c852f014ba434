// Package ops is the manager's operations surface: Prometheus metrics
// (Metrics), liveness and readiness checks (Health, Checks, Heartbeat) and
// the HTTP server that serves them on --metrics-addr (Server: /metrics,
// /healthz, /readyz).
//
// Metrics use controller-runtime's and client-go's names where the meaning
// is the same (controller_runtime_reconcile_*, workqueue_*,
// leader_election_master_status), so existing dashboards work, and
// infrakit_manager_* for the rest. Every metric is pushed: the controller
// calls a method (ReconcileDone, SetLeader, StoreSaved, ...) that does an
// atomic update, and a scrape reads only those values. A scrape therefore
// never calls into the controller and never waits on its locks, however
// busy a takeover keeps it. *Metrics implements workqueue.MetricsProvider,
// sink.CallObserver and plugin.RequestObserver.
//
// Ledger keeps each group's last reconcile (action, result, time, reason)
// under its own lock, for Manager.Status.
//
// Health checks are the consumer's: Server takes anything with Healthz and
// Readyz; Checks composes named check functions and Heartbeat turns "this
// loop made progress recently" into one. Each check runs under a deadline
// (ServerOptions.CheckTimeout), so a stuck check answers 503 instead of
// hanging the probe.
//
// Limits: no authentication or TLS on the listener (bind it to localhost or
// a private network); a check that ignores its context keeps running in its
// goroutine after the probe has answered.
package ops
