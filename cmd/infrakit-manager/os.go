package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

func newOSCmd(g *globals) *cobra.Command {
	var (
		leaderFile string
		storeDir   string
		create     bool
		maxConfig  int64
		mo         = modeOptions{lease: file.DefaultLeaseDuration, renew: controller.DefaultOptions().RenewInterval, mode: "os"}
	)
	cmd := &cobra.Command{
		Use:   "os",
		Short: "Leader from a shared file, groups stored in a file",
		Long: `os mode: this manager leads while the leader file's content (trimmed of
spaces, tabs, CR and LF) equals --name. The file is watched (inotify) and
re-read every --poll-interval. A missing, empty or unreadable leader file,
or one that is not a regular file, is "unknown": the current role is kept
for at most --lease-duration, then the manager steps down. Committed groups are stored in <store-dir>/global.config, written
atomically and fsync'd, in the original InfraKit format.

The store directory must exist (or pass --store-create): a typo is an error,
never an empty store. A missing global.config is "no groups" only until this
manager has seen one; after that a missing file, a missing directory or a
directory on another file system is unknown: nothing is changed downstream
until it is back. Write {} to global.config to reset the store to no groups.
Two managers with the same --name on one store are refused (a lock file
<store-dir>/.manager-<name>.lock names the holder).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := g.log
			lo := file.DefaultLeadershipOptions()
			lo.Path, lo.Name, lo.Log = leaderFile, g.name, log.WithName("leader")
			l, err := file.NewLeadership(lo)
			if err != nil {
				return usageError{flagError(err, osFlags())}
			}
			so := file.DefaultStoreOptions()
			so.Dir, so.Create, so.MaxBytes, so.Log = storeDir, create, maxConfig, log.WithName("store")
			s, err := file.NewStore(so)
			err = flagError(err, osFlags())
			if errors.Is(err, sources.ErrStoreMissing) {
				// Not a usage error: the store is unreadable (exit 1), and
				// nothing was acted on.
				return err
			}
			if err != nil {
				return usageError{err}
			}
			mo.store = s.Path()
			if mo.record, err = file.NewHandover(storeDir); err != nil {
				return usageError{err}
			}
			if mo.locations, err = file.NewLocation(leaderFile); err != nil {
				return usageError{err}
			}
			mo.claims = append(mo.claims, controller.NameClaim(storeDir, g.name))
			return runManager(cmd, g, log, l, s, mo)
		},
	}
	f := cmd.Flags()
	f.StringVar(&leaderFile, "leader-file", envOr("INFRAKIT_LEADER_FILE", "leader"), "shared leader file ($INFRAKIT_LEADER_FILE, else ~/.infrakit/leader)")
	f.StringVar(&storeDir, "store-dir", envOr("INFRAKIT_STORE_DIR", "configs"), "directory of global.config ($INFRAKIT_STORE_DIR, else ~/.infrakit/configs)")
	f.BoolVar(&create, "store-create", false, "create --store-dir (0700) if it does not exist; without it a missing --store-dir is an error")
	f.Int64Var(&maxConfig, "max-config-bytes", file.DefaultStoreOptions().MaxBytes, "refuse to write, or to read, a global.config larger than this many bytes")
	f.DurationVar(&mo.renew, "poll-interval", mo.renew, "how often the leader file is re-read besides inotify events; a leader acts without re-reading on a read younger than this")
	f.DurationVar(&mo.lease, "lease-duration", mo.lease, "how long an unreadable leader file keeps the current role before stepping down (another manager can be named at any moment: keep it short)")
	mo.addHandoverFlags(cmd)
	return cmd
}
