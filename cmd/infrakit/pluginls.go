package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// pluginCommand is `infrakit plugin`: the plugin directory.
func (a *app) pluginCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Find plugins in the plugin directory",
		Args:  noArgs,
		RunE:  helpOnly,
	}
	var quiet bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the plugins (sockets) in the plugin directory, sorted by name",
		Args:  cobra.NoArgs,
		RunE: runE(func(context.Context, []string) error {
			entries, err := a.dir().List()
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(a.out, "%s\t%s\n", "NAME", "LISTEN")
			}
			for _, e := range entries {
				fmt.Fprintf(a.out, "%s\t%s\n", e.Name, e.Path)
			}
			return nil
		}),
	}
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "print rows without column headers")
	cmd.AddCommand(ls)
	return cmd
}
