package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/sources"
)

func newOSCmd(g *globals) *cobra.Command {
	var (
		leaderFile string
		storeDir   string
		poll       time.Duration
		maxConfig  int64
	)
	cmd := &cobra.Command{
		Use:   "os",
		Short: "Leader from a shared file, groups stored in a file",
		Long: `os mode: this manager leads while the leader file's content (trimmed of
spaces, tabs, CR and LF) equals --name. The file is watched (inotify) and
polled. Committed groups are stored in <store-dir>/global.config, written
atomically and fsync'd, in the original InfraKit format.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := g.log
			l, err := sources.NewFileLeadership(sources.FileLeadershipOptions{
				Path: leaderFile, Name: g.name, PollInterval: poll, Log: log.WithName("leader"),
			})
			if err != nil {
				return usageError{err}
			}
			s, err := sources.NewFileStore(sources.FileStoreOptions{Dir: storeDir, MaxBytes: maxConfig, Log: log.WithName("store")})
			if err != nil {
				return usageError{err}
			}
			return runManager(cmd, g, log, l, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&leaderFile, "leader-file", envOr("INFRAKIT_LEADER_FILE", "leader"), "shared leader file ($INFRAKIT_LEADER_FILE, else ~/.infrakit/leader)")
	f.StringVar(&storeDir, "store-dir", envOr("INFRAKIT_STORE_DIR", "configs"), "directory of global.config ($INFRAKIT_STORE_DIR, else ~/.infrakit/configs)")
	f.Int64Var(&maxConfig, "max-config-bytes", sources.DefaultFileStoreOptions().MaxBytes, "refuse to write, or to read, a global.config larger than this many bytes")
	f.DurationVar(&poll, "poll-interval", 5*time.Second, "leader file poll interval, a safety net beside inotify (jittered ±10%)")
	return cmd
}
