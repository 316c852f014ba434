package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is one skipped test.
type skip struct {
	pkg, test, reason string
}

func main() {
	verbose := flag.Bool("v", false, "print every line of test output")
	module := flag.String("module", "github.com/infrakit-manager/manager/", "prefix trimmed from package names in the summary")
	flag.Parse()
	failed, err := summarize(os.Stdin, os.Stdout, *verbose, *module)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// summarize copies the test output to w and ends with the skip line. It
// reports whether anything failed.
func summarize(r io.Reader, w io.Writer, verbose bool, module string) (bool, error) {
	out := map[string][]string{} // output of each running test, by package + test
	orphans := orphanLines{}     // failure-looking lines of passed subtests, by package + top-level test
	var skips []skip
	var hungs []hung
	run := running{}
	failed, events := false, 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(w, string(line)) // not an event (a build error): pass it on
			continue
		}
		events++
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "run":
			run.start(e.Package, e.Test)
		case "output":
			if verbose || (e.Test == "" && e.Output != "PASS\n") { // go test alone prints no bare PASS
				fmt.Fprint(w, e.Output)
			}
			if e.Test != "" { // kept for a failure's output and a skip's reason
				out[key] = append(out[key], e.Output)
			}
		case "fail":
			failed = true
			if e.Test == "" { // the package: name the tests its panic caught
				hs := hungTests(e.Package, run[e.Package], out)
				printHung(w, hs, module)
				hungs = append(hungs, hs...)
				delete(run, e.Package)
				break
			}
			run.end(e.Package, e.Test)
			if !verbose {
				for _, o := range out[key] {
					fmt.Fprint(w, o)
				}
				orphans.print(w, e.Package, e.Test)
			}
			orphans.childFailed(e.Package, e.Test)
			delete(out, key)
		case "skip":
			run.end(e.Package, e.Test)
			if e.Test != "" {
				skips = append(skips, skip{pkg: strings.TrimPrefix(e.Package, module), test: e.Test, reason: reason(out[key])})
			}
			delete(out, key)
		case "pass":
			run.end(e.Package, e.Test)
			orphans.keep(e.Package, e.Test, out[key])
			delete(out, key)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	if events == 0 {
		fmt.Fprintln(w, "skipped: unknown — go test reported no test events")
		return true, nil
	}
	fmt.Fprintln(w, skipLine(skips))
	if len(hungs) > 0 {
		fmt.Fprintln(w, hungLine(hungs, module))
	}
	return failed, nil
}

// reason is the skip message: the last logged line before "--- SKIP".
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		// "file_test.go:12: message": keep the message.
		if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l[:strings.Index(l, ": ")], ".go:") {
			return msg
		}
		return l
	}
	return "no reason given"
}

// skipLine groups skips by package and reason, in a stable order. A subtest
// whose parent also skipped for the same reason is not named again.
func skipLine(skips []skip) string {
	if len(skips) == 0 {
		return "skipped: none"
	}
	type group struct{ pkg, reason string }
	skipped := map[skip]bool{}
	for _, s := range skips {
		skipped[s] = true
	}
	var order []group
	tests := map[group][]string{}
	for _, s := range skips {
		g := group{s.pkg, s.reason}
		if parent, _, isSub := strings.Cut(s.test, "/"); isSub && skipped[skip{s.pkg, parent, s.reason}] {
			continue // named through its parent
		}
		if _, ok := tests[g]; !ok {
			order = append(order, g)
		}
		tests[g] = append(tests[g], s.test)
	}
	slices.SortStableFunc(order, func(a, b group) int { return strings.Compare(a.pkg, b.pkg) })
	parts := make([]string, 0, len(order))
	for _, g := range order {
		parts = append(parts, fmt.Sprintf("%s: %s (%s)", g.pkg, strings.Join(tests[g], ", "), g.reason))
	}
	return fmt.Sprintf("skipped: %d — %s", len(skips), strings.Join(parts, "; "))
}
