package main

import (
	"os"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger maps the original's --log 0..5 (logrus: panic, fatal, error,
// warn, info, debug) onto zap through zapr. logr has no warn level, so 3
// shows errors only; 5 enables every V-level up to V(5) (per-call debug).
func newLogger(level int) logr.Logger {
	var lvl zapcore.Level
	switch level {
	case 0:
		lvl = zapcore.PanicLevel
	case 1:
		lvl = zapcore.FatalLevel
	case 2, 3:
		lvl = zapcore.ErrorLevel
	case 4:
		lvl = zapcore.InfoLevel
	default:
		lvl = zapcore.Level(-5)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeLevel = zapcore.LowercaseLevelEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(os.Stderr), zap.NewAtomicLevelAt(lvl))
	return zapr.NewLogger(zap.New(core))
}
