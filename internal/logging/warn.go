package logging

import (
	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
)

// warner is a sink that writes at warn level (the sink New builds).
type warner interface {
	Warn(msg string, kv ...any)
}

// Warn writes msg at warn level (--log 3 and above) through the logger New
// built; logr itself has no warn level. Any other logger (a test's, a
// discarding one) gets the line as an info line.
func Warn(log logr.Logger, msg string, kv ...any) {
	if w, ok := log.GetSink().(warner); ok {
		w.Warn(msg, kv...)
		return
	}
	log.Info(msg, kv...)
}

// Warn writes one warn-level line through the zap logger under the sink,
// with this sink's values; without one it writes an info line.
func (d *dedupSink) Warn(msg string, kv ...any) {
	u, ok := d.sink.(zapr.Underlier)
	if !ok {
		d.Info(0, msg, kv...)
		return
	}
	u.GetUnderlying().Sugar().Warnw(msg, merge(d.values, kv)...)
}
