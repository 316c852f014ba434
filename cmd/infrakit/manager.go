package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/plugin"
)

// errUnhealthy marks a status that was printed but is not healthy: exit 1
// without a second message.
var errUnhealthy = errors.New("manager not healthy")

// managerCommand is `infrakit manager`: the Manager API of the manager --name.
func (a *app) managerCommand() *cobra.Command {
	var name string
	client := func() plugin.Manager {
		if a.remote.remote != nil {
			return a.remote.remote
		}
		return plugin.NewNamedClient(a.dir(), name, a.clientOptions())
	}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Ask a manager (infrakit-manager) about itself",
		Args:  noArgs,
		RunE:  helpOnly,
	}
	cmd.PersistentFlags().StringVar(&name, "name", "group", "name of the manager's Group socket")

	var output string
	status := &cobra.Command{
		Use:   "status",
		Short: "Print this replica's name, mode, role, lease, term, store, and each group's last reconcile; exit 0 when healthy, 1 otherwise",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o must be text or json, got %q", output)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := client().Status(cmd.Context())
			if err != nil {
				return &failure{err: err}
			}
			if output == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(jsonStatus(s)); err != nil {
					return &failure{err: err}
				}
			} else {
				writeStatus(a.out, s)
			}
			if !s.Healthy {
				return &failure{err: errUnhealthy}
			}
			return nil
		},
	}
	status.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")

	leader := &cobra.Command{
		Use:   "leader",
		Short: "Print whether this replica leads and where the leader is (Manager.IsLeader, Manager.LeaderLocation)",
		Args:  cobra.NoArgs,
		RunE: runE(func(ctx context.Context, _ []string) error {
			c := client()
			is, err := c.IsLeader(ctx)
			if err != nil {
				return err
			}
			loc, err := c.LeaderLocation(ctx)
			if err != nil {
				return err
			}
			where := "unknown"
			if loc != nil {
				where = loc.String()
			}
			fmt.Fprintf(a.out, "IsLeader:   %t\nLocation:   %s\n", is, where)
			return nil
		}),
	}
	cmd.AddCommand(status, leader)
	return cmd
}

// statusJSON is ManagerStatus as -o json prints it: the leader's URL as a
// string (null when unknown), not Go's url.URL fields.
type statusJSON struct {
	plugin.ManagerStatus
	Leader *string
}

func jsonStatus(s plugin.ManagerStatus) statusJSON {
	out := statusJSON{ManagerStatus: s}
	if s.Leader != nil {
		u := s.Leader.String()
		out.Leader = &u
	}
	return out
}

// maxStoredListed bounds the stored group IDs the text status lists.
const maxStoredListed = 20

// storedLine lists the stored groups' IDs, at most maxStoredListed.
func storedLine(ids []plugin.ID) string {
	if len(ids) == 0 {
		return "-"
	}
	parts := make([]string, 0, min(len(ids), maxStoredListed)+1)
	for _, id := range ids[:min(len(ids), maxStoredListed)] {
		parts = append(parts, string(id))
	}
	if len(ids) > maxStoredListed {
		parts = append(parts, fmt.Sprintf("… and %d more (infrakit group ls)", len(ids)-maxStoredListed))
	}
	return strings.Join(parts, ", ")
}

// writeStatus prints s as aligned text.
func writeStatus(w io.Writer, s plugin.ManagerStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	leader := "unknown"
	if s.Leader != nil {
		leader = s.Leader.String()
	}
	health := "healthy"
	if !s.Healthy {
		health = "NOT HEALTHY"
	}
	fmt.Fprintf(tw, "Name:\t%s\n", s.Name)
	fmt.Fprintf(tw, "Mode:\t%s\n", s.Mode)
	fmt.Fprintf(tw, "Role:\t%s\n", s.Role)
	fmt.Fprintf(tw, "Lease:\t%s\n", s.Lease)
	fmt.Fprintf(tw, "Term:\t%d (times this replica has gained leadership since it started)\n", s.Term)
	if h := s.Handover; h != nil {
		fmt.Fprintf(tw, "Handover:\t%s, term %d, %s after %s: %s\n", h.Mode, h.Term, h.Phase, h.Waited.Round(time.Millisecond), h.Reason)
	}
	fmt.Fprintf(tw, "Leader:\t%s\n", leader)
	fmt.Fprintf(tw, "Store:\t%s\n", s.Store.Location)
	fmt.Fprintf(tw, "Store version:\t%s\n", orDash(s.Store.Version))
	fmt.Fprintf(tw, "Groups:\t%d stored\n", s.GroupCount)
	fmt.Fprintf(tw, "Stored:\t%s\n", storedLine(s.Stored))
	fmt.Fprintf(tw, "Health:\t%s\n", health)
	for _, p := range s.Problems {
		fmt.Fprintf(tw, "Problem:\t%s\n", p)
	}
	_ = tw.Flush()
	if len(s.Groups) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLAST ACTION\tRESULT\tWHEN\tREASON")
	for _, g := range s.Groups {
		when := "-"
		if !g.LastTime.IsZero() {
			when = g.LastTime.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.ID, orDash(g.LastAction), orDash(oneLine(g.LastResult)), when, orDash(oneLine(g.Reason)))
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
