package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/go-logr/logr"
)

// Summary counts what one pass did.
type Summary struct {
	Leader    bool
	Groups    int
	Committed int
	Freed     int
	Destroyed int
	Failed    int
	Planned   int // actions planned but not carried out (dry run)
	// Waiting counts the groups the pass could not decide (something was
	// unknown) and the destroys still pending in the store afterwards.
	Waiting int
}

// Converged reports whether the pass left nothing failed, planned,
// waiting or pending: only then does --once exit 0.
func (s Summary) Converged() bool { return s.Failed == 0 && s.Planned == 0 && s.Waiting == 0 }

// runOnce is one full reconcile pass over every stored or running group,
// through the same plan and execute steps the daemon's workers use, after
// the caller's leadership check. Each action and its outcome is written to
// out. An unreadable store or downstream acts on nothing: both sides must
// be known before anything is changed.
func (r *reconciler) runOnce(ctx context.Context, out io.Writer, dryRun bool) (Summary, error) {
	role := r.lease.view().Role
	sum := Summary{Leader: role == RoleLeader}
	fmt.Fprintf(out, "role: %s\n", role)
	if err := r.sync(ctx); err != nil {
		fmt.Fprintf(out, "acting on nothing: %v\n", err)
		return sum, err
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	for _, id := range r.keys() {
		sum.Groups++
		if dryRun {
			v := r.lease.view()
			p := plan(id, role, r.desired.get(id, r.leaderTerm(v)), r.obs.get(id), intent{}, false, false)
			if p.Action == ActionWait {
				sum.Waiting++
			}
			if p.Action != ActionNoop && p.Action != ActionWait {
				sum.Planned++
				fmt.Fprintf(tw, "%s\t%s\t%s\twould run\n", p.Action, id, p.Reason)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t\n", p.Action, id, p.Reason)
			}
			continue
		}
		log := r.log.WithValues("group", id, "reconcileID", r.rid.Add(1))
		p, o := r.reconcile(logr.NewContext(ctx, log), id)
		switch {
		case errors.Is(o.err, errWaiting):
			sum.Waiting++
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", p.Action, id, p.Reason)
		case p.Action == ActionNoop:
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", p.Action, id, p.Reason)
		case o.err != nil:
			sum.Failed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tfailed: %v\n", p.Action, id, p.Reason, o.err)
		case p.Action == ActionCommit:
			sum.Committed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tok: %s\n", p.Action, id, p.Reason, o.details)
		case p.Action == ActionDestroy:
			sum.Destroyed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tok\n", p.Action, id, p.Reason)
		default:
			sum.Freed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tok\n", p.Action, id, p.Reason)
		}
	}
	_ = tw.Flush()
	if n := r.desired.pending(); n > 0 && role == RoleLeader && !dryRun && sum.Failed == 0 {
		// Every pending destroy was tried above; one still stored failed
		// or was not reached (not leading).
		sum.Waiting = max(sum.Waiting, n)
	}
	// destroyed and waiting are shown only when not zero: the line stays
	// as scripts written for the earlier summary parse it
	extra := ""
	if sum.Destroyed > 0 {
		extra += fmt.Sprintf(", destroyed: %d", sum.Destroyed)
	}
	if sum.Waiting > 0 {
		extra += fmt.Sprintf(", waiting: %d", sum.Waiting)
	}
	fmt.Fprintf(out, "groups: %d, committed: %d, freed: %d, failed: %d, planned: %d%s\n",
		sum.Groups, sum.Committed, sum.Freed, sum.Failed, sum.Planned, extra)
	return sum, nil
}
