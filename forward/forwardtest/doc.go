// Package forwardtest has a hand-written fake of forward.Local for the
// forwarding layer's unit tests: a Group that stores specs in memory, leads
// or not as told, names the leader's location as told, and records calls.
package forwardtest
