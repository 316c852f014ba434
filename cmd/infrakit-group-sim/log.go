package main

import (
	"fmt"
	"io"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// zapLevels maps the original's --log values (logrus levels 0 panic … 5
// debug) to zap levels. Level 5 enables logr's V(1).
var zapLevels = [...]zapcore.Level{
	zapcore.PanicLevel, zapcore.FatalLevel, zapcore.ErrorLevel,
	zapcore.WarnLevel, zapcore.InfoLevel, zapcore.DebugLevel,
}

// newLogger returns a JSON-lines logger on w at the given --log level and a
// function that flushes it.
func newLogger(level int, w io.Writer) (logr.Logger, func(), error) {
	if level < 0 || level >= len(zapLevels) {
		return logr.Discard(), func() {}, fmt.Errorf("--log must be between 0 and %d, got %d", len(zapLevels)-1, level)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(zapcore.AddSync(w)), zapLevels[level])
	z := zap.New(core)
	return zapr.NewLogger(z), func() { _ = z.Sync() }, nil
}
