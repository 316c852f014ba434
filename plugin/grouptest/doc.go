// Package grouptest holds the contract every plugin.Group must keep, as the
// original v0.1.0 group plugin kept it: what a commit answers, what is then
// listed and described, what free and destroy do, and the texts for a group
// that is not being watched. It runs against the simulator, a client talking
// to a served simulator over a real unix socket, the sink, and the manager's
// own Group API, so that a fake and the real thing are held to one standard.
//
// Limits: it checks behaviour visible through the Group SPI only (no
// instance-level provisioning), with one-instance and two-instance groups.
package grouptest
