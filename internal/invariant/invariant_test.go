package invariant

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func final(stored map[string]string, leader string, running map[string]map[string]string) *Final {
	return &Final{Stored: stored, Leader: leader, Running: running, Tracked: map[string]int{}}
}

// TestCheck has one passing and one failing history per rule: every rule
// can fail, and a history that keeps it passes.
func TestCheck(t *testing.T) {
	rules := Rules{Lease: 2 * time.Second}
	lead := []Hold{{Manager: "a", From: at(0), To: at(10000)}}
	for _, tc := range []struct {
		name string
		h    History
		want string // rule broken, "" none
	}{
		{"acked commit kept", History{
			Requests: []Request{{Group: "g", Kind: Commit, Version: "v1", Start: at(1), End: at(2), Outcome: Acked}},
			Final:    final(map[string]string{"g": "v1"}, "a", map[string]map[string]string{"a": {"g": "v1"}}),
		}, ""},
		{"acked commit lost", History{
			Requests: []Request{{Group: "g", Kind: Commit, Version: "v1", Start: at(1), End: at(2), Outcome: Acked}},
			Final:    final(map[string]string{}, "a", map[string]map[string]string{"a": {}}),
		}, RuleAckedWrite},
		{"ambiguous later write may win", History{
			Requests: []Request{
				{Group: "g", Kind: Commit, Version: "v1", Start: at(1), End: at(2), Outcome: Acked},
				{Group: "g", Kind: Destroy, Start: at(3), End: at(4), Outcome: Ambiguous},
			},
			Final: final(map[string]string{}, "a", map[string]map[string]string{"a": {}}),
		}, ""},
		{"destroy then free by the accepting manager", History{
			Requests: []Request{{Group: "g", Kind: Destroy, Via: "a", Start: at(10), End: at(20), Outcome: Acked}},
			Effects:  []Effect{{Manager: "a", Group: "g", Kind: Free, At: at(15)}},
			Holds:    lead,
			Final:    final(map[string]string{}, "a", map[string]map[string]string{"a": {}}),
		}, RuleDestroyNotFreed},
		{"destroy, free, then adopted and destroyed", History{
			Requests: []Request{{Group: "g", Kind: Destroy, Via: "a", Start: at(10), End: at(20), Outcome: Acked}},
			Effects: []Effect{
				{Manager: "a", Group: "g", Kind: Free, At: at(15)},
				{Manager: "b", Group: "g", Kind: Commit, At: at(3000)},
				{Manager: "b", Group: "g", Kind: Destroy, At: at(3001)},
			},
			Holds: []Hold{{Manager: "a", From: at(0), To: at(100)}, {Manager: "b", From: at(2500)}},
			Final: final(map[string]string{}, "b", map[string]map[string]string{"a": {}, "b": {}}),
		}, ""},
		{"destroy then free, committed again in between", History{
			Final: final(map[string]string{}, "a", map[string]map[string]string{"a": {}}),
			Requests: []Request{
				{Group: "g", Kind: Destroy, Via: "a", Start: at(10), End: at(20), Outcome: Acked},
				{Group: "g", Kind: Commit, Via: "a", Start: at(30), End: at(40), Outcome: Acked},
			},
			Effects: []Effect{{Manager: "a", Group: "g", Kind: Free, At: at(50)}},
			Holds:   lead,
		}, ""},
		{"destroyed group runs again", History{
			Requests: []Request{{Group: "g", Kind: Destroy, Via: "a", Start: at(10), End: at(20), Outcome: Acked}},
			Effects:  []Effect{{Manager: "a", Group: "g", Kind: Commit, At: at(30)}},
			Holds:    lead,
			Final:    final(map[string]string{}, "a", map[string]map[string]string{"a": {}}),
		}, RuleDestroyStaysDown},
		{"commit past the lease", History{
			Holds:   []Hold{{Manager: "a", From: at(0), To: at(100)}},
			Effects: []Effect{{Manager: "a", Group: "g", Kind: Commit, At: at(2100)}},
		}, RuleLease},
		{"commit within the lease", History{
			Holds:   []Hold{{Manager: "a", From: at(0), To: at(100)}},
			Effects: []Effect{{Manager: "a", Group: "g", Kind: Commit, At: at(2099)}},
		}, ""},
		{"commit past the lease, on waking from a freeze", History{
			Holds:   []Hold{{Manager: "a", From: at(0), To: at(100)}},
			Freezes: []Freeze{{Manager: "a", From: at(150), To: at(3000)}},
			Effects: []Effect{{Manager: "a", Group: "g", Kind: Commit, At: at(3000)}},
		}, ""},
		{"two actors", History{
			Holds: []Hold{{Manager: "a", From: at(0), To: at(100)}, {Manager: "b", From: at(100)}},
			Effects: []Effect{
				{Manager: "b", Group: "g", Kind: Commit, At: at(200)},
				{Manager: "a", Group: "g", Kind: Commit, At: at(300)},
			},
		}, RuleOneActor},
		{"one actor after another", History{
			Holds: []Hold{{Manager: "a", From: at(0), To: at(100)}, {Manager: "b", From: at(2200)}},
			Effects: []Effect{
				{Manager: "a", Group: "g", Kind: Commit, At: at(300)},
				{Manager: "b", Group: "g", Kind: Commit, At: at(2300)},
			},
		}, ""},
		{"leader does not run a stored group", History{
			Requests: []Request{{Group: "g", Kind: Commit, Version: "v1", Outcome: Acked}},
			Final:    final(map[string]string{"g": "v1"}, "a", map[string]map[string]string{"a": {}, "b": {}}),
		}, RuleConverged},
		{"follower runs a group", History{
			Requests: []Request{{Group: "g", Kind: Commit, Version: "v1", Outcome: Acked}},
			Final:    final(map[string]string{"g": "v1"}, "a", map[string]map[string]string{"a": {"g": "v1"}, "b": {"g": "v1"}}),
		}, RuleConverged},
		{"state beyond stored plus listed", History{
			Final: &Final{Stored: map[string]string{}, Leader: "a", Running: map[string]map[string]string{"a": {}}, Tracked: map[string]int{"a": 3}},
		}, RuleBounded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, _ := Check(tc.h, rules)
			if tc.want == "" {
				require.Empty(t, vs)
				return
			}
			require.NotEmpty(t, vs)
			for _, v := range vs {
				require.Equal(t, tc.want, v.Rule, v.String())
			}
			require.Positive(t, Counts(vs)[tc.want])
		})
	}
}

func TestSummaryNamesEveryRule(t *testing.T) {
	s := Summary(Counts(nil))
	for _, r := range RuleNames() {
		require.Contains(t, s, r+"=0")
	}
}
