// Package sourcestest holds hand-written fakes of the sources interfaces and
// the contract suites every implementation must pass.
//
// MemStore and StaticLeadership are in-memory and controllable from tests
// (injected errors, leadership flips, save counts). RunStoreContract and
// RunLeadershipContract are run against the file implementations, the swarm
// implementations and these fakes alike, so a fake never promises more than
// the real thing. Limits: the fakes are for tests only; nothing here is
// durable.
package sourcestest
