// Package logging builds the logr.Logger every binary uses: zap through
// zapr, with the original InfraKit's --log levels (logrus: 0 panic, 1 fatal,
// 2 error, 3 warn, 4 info, 5 debug) and a console or JSON-lines encoding.
//
// Limits: logr has no warn level, so level 3 shows what level 2 shows; level
// 5 enables logr V-levels up to V(5).
package logging
