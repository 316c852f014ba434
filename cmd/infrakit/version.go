package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// Set at build time with
// -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)".
var (
	version = "dev"
	commit  = "unknown"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this CLI",
		Args:  cobra.NoArgs,
		RunE: runE(func(context.Context, []string) error {
			fmt.Fprintf(a.out, "Version:    %s\nRevision:   %s\nGo version: %s\n", version, commit, runtime.Version())
			return nil
		}),
	}
}
