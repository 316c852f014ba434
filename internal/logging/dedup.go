package logging

import "github.com/go-logr/logr"

// dedupSink keeps each key once per line: a key given again (by a nested
// WithValues, or at the call) replaces the earlier value in place, where
// zap would print both. Values from WithValues are kept here and handed to
// the wrapped sink with each line, so the wrapped sink never sees a
// WithValues.
type dedupSink struct {
	sink   logr.LogSink
	values []any // key, value, ...; keys unique
}

var _ logr.LogSink = (*dedupSink)(nil)

func (d *dedupSink) Init(info logr.RuntimeInfo) { d.sink.Init(info) }

func (d *dedupSink) Enabled(level int) bool { return d.sink.Enabled(level) }

func (d *dedupSink) Info(level int, msg string, kv ...any) {
	d.sink.Info(level, msg, merge(d.values, kv)...)
}

func (d *dedupSink) Error(err error, msg string, kv ...any) {
	d.sink.Error(err, msg, merge(d.values, kv)...)
}

func (d *dedupSink) WithValues(kv ...any) logr.LogSink {
	return &dedupSink{sink: d.sink, values: merge(d.values, kv)}
}

func (d *dedupSink) WithName(name string) logr.LogSink {
	return &dedupSink{sink: d.sink.WithName(name), values: d.values}
}

// merge returns base followed by the pairs of kv, a key already present
// taking the later value in its first place. A trailing key without a value
// is passed on as is (the wrapped sink reports it). base is not modified.
func merge(base, kv []any) []any {
	if len(kv) == 0 {
		return base
	}
	out := make([]any, len(base), len(base)+len(kv))
	copy(out, base)
	for i := 0; i < len(kv); i += 2 {
		if i+1 >= len(kv) {
			out = append(out, kv[i])
			break
		}
		replaced := false
		for j := 0; j+1 < len(out); j += 2 {
			if out[j] == kv[i] {
				out[j+1] = kv[i+1]
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}
