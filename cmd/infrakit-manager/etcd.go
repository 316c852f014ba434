package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd"
	"github.com/infrakit-manager/manager/sources/swarm"
)

// etcdFlags are the flags of `etcd` and its subcommands.
type etcdFlags struct {
	client    etcd.ClientOptions
	prefix    string
	lease     time.Duration
	timeout   time.Duration
	candidate string
	maxTxnOps int
}

func newEtcdCmd(g *globals) *cobra.Command {
	lo, so := etcd.DefaultLeadershipOptions(), etcd.DefaultStoreOptions()
	f := &etcdFlags{client: etcd.DefaultClientOptions()}
	cmd := &cobra.Command{
		Use:   "etcd",
		Short: "Leader elected in etcd (lease, fenced writes); groups stored one key each in etcd",
		Long: `etcd mode: managers campaign in an etcd election under <prefix>/election/;
the winner leads while its lease (--lease-duration) is renewed, and stops
acting at once when its local lease deadline passes. Committed groups are
stored one key per group under <prefix>/groups/, every write fenced on the
leader's election key. Use "etcd import" and "etcd export" to move a
global.config (or a Swarm label's contents) in and out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := g.log
			cli, err := etcd.NewClient(f.client)
			if err != nil {
				return usageError{err}
			}
			defer cli.Close()
			if !cmd.Flags().Changed("etcd-timeout") {
				f.timeout = min(f.timeout, f.lease/3) // a short lease needs quicker calls
			}
			lo.Prefix, lo.LeaseDuration, lo.CallTimeout, lo.Log = f.prefix, f.lease, f.timeout, log.WithName("leader")
			lo.Name = f.candidate
			if lo.Name == "" {
				lo.Name = defaultCandidate(g.name)
			}
			l, err := etcd.NewLeadership(cli, lo)
			if err != nil {
				return usageError{err}
			}
			defer l.Close()
			s, err := f.store(cli, so, l, log.WithName("store"))
			if err != nil {
				return err
			}
			defer s.Close()
			// The election lease is the controller's lease too; Status.Expires
			// (last keep-alive answer + TTL - margin) bounds every confirmation.
			locs, err := etcd.NewLocation(cli, f.prefix, f.timeout)
			if err != nil {
				return usageError{err}
			}
			return runManager(cmd, g, log, l, s, modeOptions{lease: f.lease, renew: controller.DefaultOptions().RenewInterval,
				mode: "etcd", store: "etcd " + f.prefix + "/groups/", locations: locs})
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringSliceVar(&f.client.Endpoints, "endpoints", nil, "etcd members' client URLs, comma-separated (required)")
	pf.StringVar(&f.prefix, "prefix", lo.Prefix, "key prefix of this manager group: <prefix>/election/, <prefix>/groups/")
	pf.StringVar(&f.client.CACert, "cacert", "", "CA certificate that signed the etcd members' certificates (PEM)")
	pf.StringVar(&f.client.Cert, "cert", "", "client TLS certificate (PEM), with --key")
	pf.StringVar(&f.client.Key, "key", "", "client TLS key (PEM), with --cert")
	pf.DurationVar(&f.client.DialTimeout, "dial-timeout", f.client.DialTimeout, "deadline of connecting to an etcd member")
	pf.DurationVar(&f.timeout, "etcd-timeout", lo.CallTimeout, "deadline of every etcd call (at most a third of --lease-duration; lowered to that unless set)")
	pf.IntVar(&f.maxTxnOps, "max-txn-ops", so.MaxTxnOps, "the cluster's --max-txn-ops: one commit changes at most this many groups minus 2")
	fl := cmd.Flags()
	fl.DurationVar(&f.lease, "lease-duration", lo.LeaseDuration, "election lease TTL, whole seconds: a dead leader is replaced after about this long")
	fl.StringVar(&f.candidate, "candidate", "", "this manager's name in the election, shown as the leader (default <hostname>/<--name>)")
	cmd.AddCommand(newEtcdImportCmd(f, so), newEtcdExportCmd(f, so))
	return cmd
}

// store opens an etcd Store (fenced by fence when not nil); errors are usage.
func (f *etcdFlags) store(cli *clientv3.Client, so etcd.StoreOptions, fence etcd.Fencer, log logr.Logger) (*etcd.Store, error) {
	so.Prefix, so.CallTimeout, so.MaxTxnOps, so.Log = f.prefix, f.timeout, f.maxTxnOps, log
	if fence != nil {
		so.Fence = fence
	}
	s, err := etcd.NewStore(cli, so)
	if err != nil {
		return nil, usageError{err}
	}
	return s, nil
}

func newEtcdImportCmd(f *etcdFlags, so etcd.StoreOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Write the groups of a global.config (or a Swarm label's contents) into etcd; idempotent",
		Long: `Reads FILE in the original's global.config format, or a Swarm "infrakit"
label's value (base64 of zlib of that JSON), and writes every group into
<prefix>/groups/: added, or replaced where different. Groups only in etcd are
kept. Running it again writes nothing. A large file is written in several
commits of at most --max-txn-ops minus 2 groups; if cut short, run it again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := readImport(args[0])
			if err != nil {
				return err
			}
			cli, s, err := f.openUnfenced(so)
			if err != nil {
				return err
			}
			defer cli.Close()
			defer s.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			n, err := etcd.Import(ctx, s, cfg, f.maxTxnOps-2)
			if err != nil {
				return fmt.Errorf("import %s: %d group(s) written before: %w", args[0], n, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %d group(s) in the file, %d written under %s/groups/\n", args[0], len(cfg.Groups), n, f.prefix)
			return nil
		},
	}
}

func newEtcdExportCmd(f *etcdFlags, so etcd.StoreOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export [FILE]",
		Short: "Write the groups stored in etcd as a global.config (to FILE, else stdout)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cli, s, err := f.openUnfenced(so)
			if err != nil {
				return err
			}
			defer cli.Close()
			defer s.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			data, err := etcd.Export(ctx, s)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if len(args) == 0 || args[0] == "-" {
				_, err = cmd.OutOrStdout().Write(append(data, '\n'))
				return err
			}
			return writeFileSync(args[0], data)
		},
	}
}

func (f *etcdFlags) openUnfenced(so etcd.StoreOptions) (*clientv3.Client, *etcd.Store, error) {
	cli, err := etcd.NewClient(f.client)
	if err != nil {
		return nil, nil, usageError{err}
	}
	s, err := f.store(cli, so, nil, logr.Discard())
	if err != nil {
		_ = cli.Close()
		return nil, nil, err
	}
	return cli, s, nil
}

// readImport decodes a global.config or, failing that, a Swarm label value.
func readImport(path string) (sources.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sources.Config{}, fmt.Errorf("import: %w", err)
	}
	cfg, err := sources.DecodeConfig(data)
	if err == nil {
		return cfg, nil
	}
	if trimmed := strings.TrimSpace(string(data)); trimmed != "" && !strings.HasPrefix(trimmed, "{") {
		lcfg, lerr := swarm.DecodeLabel(trimmed)
		if lerr != nil {
			return sources.Config{}, fmt.Errorf("import %s: neither a global.config (%v) nor a Swarm label value (%w)", path, err, lerr)
		}
		return lcfg, nil
	}
	return sources.Config{}, fmt.Errorf("import %s: %w", path, err)
}

// writeFileSync replaces path atomically with data: temp file, fsync, rename,
// fsync of the directory.
func writeFileSync(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".export-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	defer d.Close()
	return d.Sync()
}

// defaultCandidate names this manager in the election: <hostname>/<name>.
func defaultCandidate(name string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return host + "/" + name
}
