package logging

import (
	"fmt"
	"io"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Formats of New.
const (
	Console = "console" // human-readable: time, level, message, JSON fields
	JSON    = "json"    // one JSON object per line
)

// MaxLevel is the highest --log value.
const MaxLevel = 5

// zapLevels maps --log values to zap levels. zapr maps logr's V(n) to zap
// level -n, so the debug level -5 shows V(1) to V(5).
var zapLevels = [...]zapcore.Level{
	zapcore.PanicLevel, zapcore.FatalLevel, zapcore.ErrorLevel,
	zapcore.WarnLevel, zapcore.InfoLevel, zapcore.Level(-5),
}

// New returns a logger writing to w at the given --log level, and a
// function that flushes it.
func New(level int, format string, w io.Writer) (logr.Logger, func(), error) {
	if level < 0 || level > MaxLevel {
		return logr.Discard(), func() {}, fmt.Errorf("--log must be between 0 and %d, got %d", MaxLevel, level)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	enc.EncodeLevel = levelName
	var encoder zapcore.Encoder
	switch format {
	case Console, "":
		encoder = zapcore.NewConsoleEncoder(enc)
	case JSON:
		encoder = zapcore.NewJSONEncoder(enc)
	default:
		return logr.Discard(), func() {}, fmt.Errorf("--log-format must be %q or %q, got %q", Console, JSON, format)
	}
	z := zap.New(zapcore.NewCore(encoder, zapcore.Lock(zapcore.AddSync(w)), zapLevels[level]))
	return logr.New(&dedupSink{sink: zapr.NewLogger(z).GetSink()}), func() { _ = z.Sync() }, nil
}

// levelName writes zap's lowercase names, and "debug" for logr's V(2) and
// deeper (zap levels below -1), which zap would write as "Level(-2)".
func levelName(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	if l < zapcore.DebugLevel {
		l = zapcore.DebugLevel
	}
	enc.AppendString(l.String())
}
