package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/internal/buildinfo"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the release version, commit, build date and Go version of this CLI",
		Args:  cobra.NoArgs,
		RunE: runE(func(context.Context, []string) error {
			i := buildinfo.Get()
			fmt.Fprintf(a.out, "Version:    %s\nRevision:   %s\nBuilt:      %s\nGo version: %s\n", i.Version, i.Commit, i.Date, i.GoVersion)
			return nil
		}),
	}
}
