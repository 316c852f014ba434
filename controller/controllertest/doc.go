// Package controllertest holds the hand-written fakes the tests of the
// controller and its packages share: Recorder, a downstream group plugin
// that forwards to a swappable plugin and counts the calls that change
// something.
package controllertest
