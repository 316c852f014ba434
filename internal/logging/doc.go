// Package logging builds the logr.Logger every binary uses: zap through
// zapr, with the original InfraKit's --log levels (logrus: 0 panic, 1 fatal,
// 2 error, 3 warn, 4 info, 5 debug) and a console or JSON-lines encoding.
// Every V-level line is named "debug" (zap alone writes V(2) as
// "Level(-2)"), and a key appears once per line: a key given again by a
// nested WithValues or at the call replaces the earlier value.
//
// logr has no warn level: Warn writes a warn line through the zap logger
// under a logger New built (an info line through any other logger).
//
// Limits: level 5 enables logr V-levels up to V(5).
package logging
