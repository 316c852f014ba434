package controller

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

// Summary counts what one pass did.
type Summary struct {
	Leader    bool
	Groups    int
	Committed int
	Freed     int
	Failed    int
	Planned   int // actions planned but not carried out (dry run)
}

// Converged reports whether the pass left nothing failed or pending.
func (s Summary) Converged() bool { return s.Failed == 0 && s.Planned == 0 }

// runOnce is one leadership check and one full reconcile pass over every
// stored or running group, through the same plan and execute steps the
// daemon's workers use. Each action and its outcome is written to out.
func (r *reconciler) runOnce(ctx context.Context, leader bool, out io.Writer, dryRun bool) (Summary, error) {
	r.setLeader(ctx, leader)
	sum := Summary{Leader: leader}
	fmt.Fprintf(out, "leader: %t\n", leader)
	if err := r.sync(ctx); err != nil {
		return sum, err
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	for _, id := range r.sortedKeys() {
		sum.Groups++
		p, err := plan(id, r.state.snapshot(id))
		if err != nil {
			sum.Failed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tfailed: %v\n", p.Action, id, p.Reason, err)
			continue
		}
		if p.Action == ActionNoop || p.Action == ActionWait {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", p.Action, id, p.Reason)
			continue
		}
		if dryRun {
			sum.Planned++
			fmt.Fprintf(tw, "%s\t%s\t%s\twould run\n", p.Action, id, p.Reason)
			continue
		}
		details, err := r.execute(ctx, p)
		switch {
		case err != nil:
			sum.Failed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tfailed: %v\n", p.Action, id, p.Reason, err)
		case p.Action == ActionCommit:
			sum.Committed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tok: %s\n", p.Action, id, p.Reason, details)
		default:
			sum.Freed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tok\n", p.Action, id, p.Reason)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "groups: %d, committed: %d, freed: %d, failed: %d, planned: %d\n",
		sum.Groups, sum.Committed, sum.Freed, sum.Failed, sum.Planned)
	return sum, nil
}
