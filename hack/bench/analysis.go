package main

import "fmt"

// causes explains, per goal, why it was missed when it is: what profiling
// found (file, function, why) and what remains. It holds no figure; the
// figures are the run's own. A goal met in the run shows no paragraph.
var causes = map[string]string{}

// analysisFor returns a paragraph for every missed goal of rows.
func analysisFor(rows []row) []string {
	var out []string
	for _, r := range rows {
		if r.Verdict != missed {
			continue
		}
		why, ok := causes[r.Measure]
		if !ok {
			why = "No cause recorded yet: profile it (go run ./hack/bench --cpuprofile-dir DIR)."
		}
		out = append(out, fmt.Sprintf("**%s** (%s; goal %s). %s", r.Measure, r.Figure, r.Goal, why))
	}
	return out
}
