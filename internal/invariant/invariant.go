package invariant

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The rules, by the names runs print.
const (
	// RuleAckedWrite: no acknowledged write is lost; after quiescence the
	// store holds, for every group, the effect of its last acknowledged
	// request or of a later ambiguous one.
	RuleAckedWrite = "acked-write-kept"
	// RuleDestroyNotFreed: a group whose destroy was acknowledged is never
	// left freed by the manager that accepted the destroy (its instances
	// would run on, unmanaged): a free of it is followed by a destroy,
	// until it is committed again.
	RuleDestroyNotFreed = "destroyed-never-freed"
	// RuleDestroyStaysDown: after an acknowledged destroy the group does not
	// run again until it is committed again: a commit of it (a leader
	// adopting it to destroy it) is followed by a destroy.
	RuleDestroyStaysDown = "destroyed-never-runs-again"
	// RuleLease: a manager commits or destroys downstream only on a
	// leadership confirmation younger than the lease.
	RuleLease = "lease-respected"
	// RuleOneActor: at most one manager commits or destroys at a time: a
	// manager's change never comes after another manager's change made on a
	// leadership that began later.
	RuleOneActor = "one-actor"
	// RuleConverged: after faults stop, the leader's downstream runs exactly
	// the stored groups (same versions) and every other downstream none.
	RuleConverged = "converged"
	// RuleBounded: the state a manager keeps is bounded by the stored groups
	// plus the groups its downstream lists.
	RuleBounded = "state-bounded"
)

// RuleNames lists every rule name, in the order runs print them.
func RuleNames() []string {
	return []string{RuleAckedWrite, RuleDestroyNotFreed, RuleDestroyStaysDown, RuleLease, RuleOneActor, RuleConverged, RuleBounded}
}

// FrozenCase counts changes tolerated as the frozen case (Rules.Frozen); it
// is reported next to the rules, not as a violation.
const FrozenCase = "frozen-case"

// Check applies every rule to h. While h.Final is nil (a step check during
// the run) only the rules on the history so far are applied.
func Check(h History, r Rules) (vs []Violation, frozen int) {
	vs = append(vs, destroys(h)...)
	lv, lf := lease(h, r)
	vs = append(vs, lv...)
	ov, of := oneActor(h, r)
	vs = append(vs, ov...)
	if h.Final != nil {
		vs = append(vs, ackedWrites(h)...)
		vs = append(vs, converged(h)...)
	}
	return vs, lf + of
}

// Counts tallies violations per rule, every rule present.
func Counts(vs []Violation) map[string]int {
	c := map[string]int{}
	for _, n := range RuleNames() {
		c[n] = 0
	}
	for _, v := range vs {
		c[v.Rule]++
	}
	return c
}

// Summary formats counts as "rule=n rule=n ...", in RuleNames order.
func Summary(c map[string]int) string {
	var b strings.Builder
	for i, n := range RuleNames() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", n, c[n])
	}
	return b.String()
}

// byGroup returns each group's requests in the order they were made.
func byGroup(h History) map[string][]Request {
	m := map[string][]Request{}
	for _, q := range h.Requests {
		m[q.Group] = append(m[q.Group], q)
	}
	for _, qs := range m {
		sort.SliceStable(qs, func(i, j int) bool { return qs[i].Start.Before(qs[j].Start) })
	}
	return m
}

// recommitted is when the group was next asked to be committed after
// request i (the far future if never).
func recommitted(qs []Request, i int) time.Time {
	for _, q := range qs[i+1:] {
		if q.Kind == Commit {
			return q.Start
		}
	}
	return time.Unix(1<<40, 0)
}

// destroys applies the two destroy rules once the run is over (a change
// they judge may be undone by a later destroy): a free of the group by the
// manager that accepted the destroy, and a commit of it after the answer,
// are violations unless a destroy of the group follows them (on any
// downstream: the downstreams of one manager group manage the same
// instances, so a leader that adopts a freed group again and destroys it
// carries out the destroy), before the group is asked to be committed again.
func destroys(h History) []Violation {
	if h.Final == nil {
		return nil
	}
	var vs []Violation
	for g, qs := range byGroup(h) {
		for i, d := range qs {
			if d.Kind != Destroy || d.Outcome != Acked {
				continue
			}
			limit := recommitted(qs, i)
			destroyedAfter := func(t time.Time) bool {
				for _, e := range h.Effects {
					if e.Group == g && e.Kind == Destroy && e.At.After(t) && e.At.Before(limit) {
						return true
					}
				}
				return false
			}
			for _, e := range h.Effects {
				if e.Group != g || !e.At.Before(limit) || destroyedAfter(e.At) {
					continue
				}
				switch {
				case e.Kind == Free && e.Manager == d.Via && !e.At.Before(d.Start):
					vs = append(vs, Violation{RuleDestroyNotFreed, fmt.Sprintf("%s; then %s, and no destroy after it", d, e)})
				case e.Kind == Commit && e.At.After(d.End):
					vs = append(vs, Violation{RuleDestroyStaysDown, fmt.Sprintf("%s answered at %s; then %s, and no destroy after it",
						d, d.End.Format("15:04:05.000000"), e)})
				}
			}
		}
	}
	return vs
}

// changes returns the commits and destroys in time order.
func changes(h History) []Effect {
	var out []Effect
	for _, e := range h.Effects {
		if e.Kind == Commit || e.Kind == Destroy {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// holdAt returns the latest hold of m that began at or before t.
func holdAt(h History, m string, t time.Time) (Hold, bool) {
	var best Hold
	found := false
	for _, x := range h.Holds {
		if x.Manager == m && !x.From.After(t) && (!found || x.From.After(best.From)) {
			best, found = x, true
		}
	}
	return best, found
}

// thawed reports whether e is the frozen case: a change made on waking
// from a freeze (within Rules.Frozen of its end) by a manager whose
// confirmation was still valid when the freeze began, so that it passed
// its gate before freezing. A Freeze with no Manager froze every manager.
func thawed(h History, r Rules, e Effect, x Hold, ok bool) bool {
	if !ok {
		return false
	}
	for _, f := range h.Freezes {
		if (f.Manager == "" || f.Manager == e.Manager) && !e.At.Before(f.From) && !e.At.After(f.To.Add(r.Frozen)) &&
			(x.To.IsZero() || f.From.Before(x.To.Add(r.Lease+r.Slack))) {
			return true
		}
	}
	return false
}

func lease(h History, r Rules) (vs []Violation, frozen int) {
	for _, e := range changes(h) {
		x, ok := holdAt(h, e.Manager, e.At)
		if ok && (x.To.IsZero() || e.At.Before(x.To.Add(r.Lease+r.Slack))) {
			continue
		}
		if thawed(h, r, e, x, ok) {
			frozen++
			continue
		}
		why := "it never led before"
		if ok {
			why = fmt.Sprintf("its last confirmation was %s earlier (lease %s)", e.At.Sub(x.To), r.Lease)
		}
		vs = append(vs, Violation{RuleLease, fmt.Sprintf("%s, %s", e, why)})
	}
	return vs, frozen
}

func oneActor(h History, r Rules) (vs []Violation, frozen int) {
	last := map[string]Effect{} // each manager's latest change so far
	for _, e := range changes(h) {
		x, ok := holdAt(h, e.Manager, e.At)
		for m, o := range last {
			if m == e.Manager || !ok || !x.From.Before(o.At.Add(-r.Slack)) {
				continue
			}
			if thawed(h, r, e, x, ok) {
				frozen++
				continue
			}
			vs = append(vs, Violation{RuleOneActor, fmt.Sprintf("%s on a leadership held since %s, after %s",
				e, x.From.Format("15:04:05.000000"), o)})
		}
		last[e.Manager] = e
	}
	return vs, frozen
}

func ackedWrites(h History) []Violation {
	var vs []Violation
	qs := byGroup(h)
	for g, v := range h.Final.Stored {
		if _, ok := qs[g]; !ok {
			vs = append(vs, Violation{RuleAckedWrite, fmt.Sprintf("group %s stored (%s) but never requested", g, v)})
		}
	}
	for g, list := range qs {
		allowed := map[string]bool{}
		base := -1
		for i, q := range list {
			if q.Outcome == Acked {
				base = i
			}
		}
		if base < 0 {
			allowed[""] = true // as before any request: absent
		}
		for i, q := range list {
			if i == base || (i > base && (q.Outcome == Ambiguous || q.Outcome == Pending)) {
				allowed[effectOf(q)] = true
			}
		}
		got := h.Final.Stored[g]
		if !allowed[got] {
			want := make([]string, 0, len(allowed))
			for a := range allowed {
				want = append(want, fmt.Sprintf("%q", a))
			}
			sort.Strings(want)
			last := "none"
			if base >= 0 {
				last = list[base].String()
			}
			vs = append(vs, Violation{RuleAckedWrite, fmt.Sprintf("group %s stored as %q, history allows %s (last acked: %s)",
				g, got, strings.Join(want, " or "), last)})
		}
	}
	return vs
}

// effectOf is what a request leaves in the store: the version for a commit,
// "" (absent) for a free or destroy.
func effectOf(q Request) string {
	if q.Kind == Commit {
		return q.Version
	}
	return ""
}

func converged(h History) []Violation {
	var vs []Violation
	f := h.Final
	if f.Leader == "" {
		return append(vs, Violation{RuleConverged, "no manager leads after faults stopped"})
	}
	for m, run := range f.Running {
		want := map[string]string{}
		if m == f.Leader {
			want = f.Stored
		}
		for g, v := range want {
			if run[g] != v {
				vs = append(vs, Violation{RuleConverged, fmt.Sprintf("%s (leader) runs %s as %q, stored %q", m, g, run[g], v)})
			}
		}
		for g, v := range run {
			if _, ok := want[g]; !ok {
				vs = append(vs, Violation{RuleConverged, fmt.Sprintf("%s runs %s (%s), which it should not (leader %s)", m, g, v, f.Leader)})
			}
		}
		if n, ok := f.Tracked[m]; ok {
			bound := len(f.Stored)
			for g := range run {
				if _, ok := f.Stored[g]; !ok {
					bound++
				}
			}
			if n > bound {
				vs = append(vs, Violation{RuleBounded, fmt.Sprintf("%s keeps state for %d groups, stored plus listed is %d", m, n, bound)})
			}
		}
	}
	return vs
}
