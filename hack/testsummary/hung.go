package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// lastLines is how much of a hung test's output is printed: the lines it
// logged last, before the panic's goroutine dump.
const lastLines = 30

// hung is one test that was still running when its package's binary died
// (go test -timeout's "panic: test timed out", or any other panic): go test
// -json then reports the package's failure but never the test's.
type hung struct {
	pkg, test, why string
	last           []string
}

// running tracks the tests of each package that started and have not
// ended, in start order.
type running map[string][]string

func (r running) start(pkg, test string) { r[pkg] = append(r[pkg], test) }

func (r running) end(pkg, test string) {
	r[pkg] = slices.DeleteFunc(r[pkg], func(s string) bool { return s == test })
}

// hungTests names the tests of pkg that were running when it failed, with
// the panic that ended it and each test's last output before the panic. out
// holds every unfinished test's output by package + test. The panic's
// "running tests:" list names the tests the timeout caught; without one,
// every unfinished test is named.
func hungTests(pkg string, tests []string, out map[string][]string) []hung {
	why, listed := "", []string(nil)
	for _, t := range tests {
		w, l := panicOf(out[pkg+"\x00"+t])
		if w != "" {
			why = w
		}
		listed = append(listed, l...)
	}
	if why == "" {
		return nil // the package failed for another reason (a TestMain exit)
	}
	names := tests
	if len(listed) > 0 {
		names = listed
	}
	hs := make([]hung, 0, len(names))
	for _, t := range names {
		hs = append(hs, hung{pkg: pkg, test: t, why: why, last: before(out[pkg+"\x00"+t])})
	}
	return hs
}

// panicOf finds a panic in a test's output and the tests it lists as
// running ("\t\tTestX (10m0s)" lines under "\trunning tests:").
func panicOf(lines []string) (why string, listed []string) {
	inList := false
	for _, l := range lines {
		s := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "panic: "):
			if why == "" {
				why = strings.TrimPrefix(s, "panic: ")
			}
		case s == "running tests:":
			inList = true
		case inList && strings.HasPrefix(l, "\t\t"):
			name, _, _ := strings.Cut(s, " ")
			listed = append(listed, name)
		default:
			inList = false
		}
	}
	return why, listed
}

// before is a test's output up to its panic, at most lastLines lines.
func before(lines []string) []string {
	end := len(lines)
	for i, l := range lines {
		if strings.HasPrefix(l, "panic: ") {
			end = i
			break
		}
	}
	return lines[max(0, end-lastLines):end]
}

// printHung names each hung test with the panic and its last output.
func printHung(w io.Writer, hs []hung, module string) {
	for _, h := range hs {
		fmt.Fprintf(w, "HUNG %s %s: %s; its last output:\n", strings.TrimPrefix(h.pkg, module), h.test, h.why)
		if len(h.last) == 0 {
			fmt.Fprintln(w, "    (none)")
		}
		for _, l := range h.last {
			fmt.Fprint(w, l)
			if !strings.HasSuffix(l, "\n") {
				fmt.Fprintln(w)
			}
		}
	}
}

// hungLine is the summary's last line when a package died with tests running.
func hungLine(hs []hung, module string) string {
	parts := make([]string, 0, len(hs))
	for _, h := range hs {
		parts = append(parts, fmt.Sprintf("%s: %s (%s)", strings.TrimPrefix(h.pkg, module), h.test, h.why))
	}
	return fmt.Sprintf("hung: %d — %s", len(hs), strings.Join(parts, "; "))
}
