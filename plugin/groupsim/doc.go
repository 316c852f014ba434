// Package groupsim is an in-memory group plugin that behaves like the
// original InfraKit group-default plugin as seen through the Group SPI: the
// same validation order and error texts, the same commit details ("Managing N
// instances", "Noop", rolling updates, scaling), instance tags
// (infrakit.group, infrakit.config_sha and the flavor's tags) and the same
// re-serialised properties from InspectGroups.
//
// It adds what tests and benchmarks need: injectable latency, failing and
// hanging methods, and an append-only event log of completed commits, frees
// and destroys so that a test can tell at the plugin who ran what and when.
//
// Limits: nothing is provisioned and no instance or flavor plugin is called
// (their names are kept but never looked up); state lives in memory and is
// lost with the process; every group is always converged.
package groupsim
