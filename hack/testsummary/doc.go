// Command testsummary reads `go test -json` on standard input, prints what
// `go test` would print (with -v: every line; without: package results and
// the output of failed tests), and ends with one line naming every skipped
// test and why, grouped by package and reason:
//
//	skipped: 3 — e2e: TestSwarm, TestSwarmFailover (e2e: starts a Docker Swarm and real processes); sources: …
//	skipped: none
//
// A package whose test binary died with tests running (go test -timeout's
// "panic: test timed out", or another panic) gets, after its FAIL line, one
// "HUNG <package> <test>: <panic>; its last output:" block per test the
// panic lists as running, with the last lines that test printed before the
// panic, and the summary ends with a line naming them:
//
//	hung: 1 — sources/etcd: TestWipedMemberRejoins (test timed out after 10m0s)
//
// It exits 1 when a test or package failed, or when the input holds no test
// event at all (go test could not build or run anything), and 0 otherwise.
//
// Limits: a reason is the last line the test logged before it skipped
// (t.Skip's message); a test that skips without a message is listed with
// "no reason given".
package main
