package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/internal/buildinfo"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the release version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprint(cmd.OutOrStdout(), buildinfo.Get().String("infrakit-manager"))
		},
	}
}
