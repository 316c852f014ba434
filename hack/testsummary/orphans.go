package main

import (
	"fmt"
	"io"
	"strings"
)

// maxOrphanLines bounds the lines kept per top-level test.
const maxOrphanLines = 200

// orphanLines keeps the failure-looking lines (an assertion's "Error",
// "FAIL", a data race, a panic) that passing subtests printed. go test
// attributes output to the test that ran last, so a failure reported on a
// parent (t.Error on the parent's t while a subtest runs) can land in a
// subtest that then passes; without these lines the parent's "--- FAIL"
// would come with no reason.
type orphanLines struct {
	lines  map[string][]string // by package + top-level test
	failed map[string]bool     // a subtest of it failed and was printed
}

func topKey(pkg, test string) string {
	top, _, _ := strings.Cut(test, "/")
	return pkg + "\x00" + top
}

// keep records the failure-looking lines of a passed subtest.
func (o *orphanLines) keep(pkg, test string, lines []string) {
	if !strings.Contains(test, "/") {
		delete(o.lines, topKey(pkg, test)) // a passing parent: nothing to explain
		return
	}
	if o.lines == nil {
		o.lines = map[string][]string{}
	}
	k := topKey(pkg, test)
	if _, ok := o.lines[k]; !ok {
		o.lines[k] = []string{} // it has subtests: a failure with none failing is explained below
	}
	for _, l := range lines {
		if looksLikeFailure(l) && len(o.lines[k]) < maxOrphanLines {
			o.lines[k] = append(o.lines[k], fmt.Sprintf("    (in %s) %s", test, strings.TrimLeft(l, " ")))
		}
	}
}

// childFailed notes that a subtest of test's top-level test failed (its own
// output was printed); for a top-level test it forgets what was kept.
func (o *orphanLines) childFailed(pkg, test string) {
	if !strings.Contains(test, "/") {
		delete(o.lines, topKey(pkg, test))
		return
	}
	if o.failed == nil {
		o.failed = map[string]bool{}
	}
	o.failed[topKey(pkg, test)] = true
}

// print writes what was kept for a top-level test that failed while no
// subtest of it did.
func (o *orphanLines) print(w io.Writer, pkg, test string) {
	k := topKey(pkg, test)
	if strings.Contains(test, "/") || o.failed[k] {
		return
	}
	kept, hasSubtests := o.lines[k]
	if !hasSubtests {
		return // its own output said why
	}
	if len(kept) == 0 {
		fmt.Fprintf(w, "    (%s failed with no failing subtest and no failure line seen: rerun it with -v)\n", test)
		return
	}
	fmt.Fprintf(w, "    (%s failed with no failing subtest; failure lines its passing subtests printed:)\n", test)
	for _, l := range kept {
		fmt.Fprint(w, l)
	}
}

func looksLikeFailure(l string) bool {
	for _, s := range []string{"Error Trace:", "Error:", "Messages:", "--- FAIL", "DATA RACE", "race detected", "panic:"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
