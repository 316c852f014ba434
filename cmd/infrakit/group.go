package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/plugin"
)

// groupCommand is `infrakit group`: the Group API of the plugin --name.
func (a *app) groupCommand() *cobra.Command {
	var name string
	client := func() plugin.Group {
		if a.remote.remote != nil {
			return a.remote.remote
		}
		a.log.V(1).Info("using group plugin", "plugin", name, "path", a.pluginDir)
		return plugin.NewNamedClient(a.dir(), name, a.clientOptions())
	}
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Access a group plugin",
		Args:  noArgs,
		RunE:  helpOnly,
		// Replaces the root's hook for group commands: runs it, then checks --name.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := cmd.Root().PersistentPreRunE(cmd, args); err != nil {
				return err
			}
			if err := plugin.ValidateName(name); err != nil {
				return fmt.Errorf("--name: %w", err) // a usage error: exit 2
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&name, "name", "group", "name of the group plugin")

	var pretend bool
	commit := &cobra.Command{
		Use:   "commit FILE|-",
		Short: "Commit a group spec {\"ID\":…,\"Properties\":…} read from FILE (- for standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(ctx context.Context, args []string) error {
			spec, err := readSpec(args[0], a.in)
			if err != nil {
				return err
			}
			details, err := client().CommitGroup(ctx, spec, pretend)
			if err != nil {
				return err
			}
			if pretend {
				fmt.Fprintf(a.out, "Committing %s would involve: %s\n", spec.ID, details)
			} else {
				fmt.Fprintf(a.out, "Committed %s: %s\n", spec.ID, details)
			}
			return nil
		}),
	}
	commit.Flags().BoolVar(&pretend, "pretend", false, "only describe what the commit would involve")

	free := &cobra.Command{
		Use:   "free ID",
		Short: "Stop managing a group, leaving its instances alone",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(ctx context.Context, args []string) error {
			if err := client().FreeGroup(ctx, plugin.ID(args[0])); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Freed %s\n", args[0])
			return nil
		}),
	}

	var describeQuiet bool
	describe := &cobra.Command{
		Use:   "describe ID",
		Short: "Describe the instances of a group",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(ctx context.Context, args []string) error {
			desc, err := client().DescribeGroup(ctx, plugin.ID(args[0]))
			if err != nil {
				return err
			}
			writeDescription(a, desc, describeQuiet)
			return nil
		}),
	}
	describe.Flags().BoolVarP(&describeQuiet, "quiet", "q", false, "print rows without column headers")

	inspect := &cobra.Command{
		Use:   "inspect ID",
		Short: "Print the spec of a group",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(ctx context.Context, args []string) error {
			specs, err := client().InspectGroups(ctx)
			if err != nil {
				return err
			}
			for _, s := range specs {
				if s.ID == plugin.ID(args[0]) {
					out, err := json.MarshalIndent(s, "", "  ")
					if err != nil {
						return fmt.Errorf("format spec of group %s: %w", s.ID, err)
					}
					fmt.Fprintln(a.out, string(out))
					return nil
				}
			}
			return fmt.Errorf("Group %s is not being watched", args[0])
		}),
	}

	destroy := &cobra.Command{
		Use:   "destroy ID",
		Short: "Stop managing a group and destroy its instances",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(ctx context.Context, args []string) error {
			if err := client().DestroyGroup(ctx, plugin.ID(args[0])); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "destroy %s initiated\n", args[0])
			return nil
		}),
	}

	var lsQuiet bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the groups being managed",
		Args:  cobra.NoArgs,
		RunE: runE(func(ctx context.Context, _ []string) error {
			specs, err := client().InspectGroups(ctx)
			if err != nil {
				return err
			}
			if !lsQuiet {
				fmt.Fprintln(a.out, "ID")
			}
			for _, s := range specs {
				fmt.Fprintln(a.out, s.ID)
			}
			return nil
		}),
	}
	ls.Flags().BoolVarP(&lsQuiet, "quiet", "q", false, "print rows without column headers")

	cmd.AddCommand(commit, free, describe, inspect, destroy, ls)
	return cmd
}

// noLogicalID is what the original printed for an instance without a logical ID.
const noLogicalID = "  -   "

// writeDescription prints the instances of a group as the original did.
func writeDescription(a *app, desc plugin.Description, quiet bool) {
	const row = "%-30s\t%-30s\t%-s\n"
	if !quiet {
		fmt.Fprintf(a.out, row, "ID", "LOGICAL", "TAGS")
	}
	for _, inst := range desc.Instances {
		logical := noLogicalID
		if inst.LogicalID != nil {
			logical = *inst.LogicalID
		}
		fmt.Fprintf(a.out, row, inst.ID, logical, formatTags(inst.Tags))
	}
}

// formatTags renders tags as k=v pairs sorted by key, comma-joined.
func formatTags(tags map[string]string) string {
	pairs := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		pairs = append(pairs, k+"="+tags[k])
	}
	return strings.Join(pairs, ",")
}
