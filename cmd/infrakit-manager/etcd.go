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
	handover  string // on SIGTERM of a leader: "free" (then resign) or "keep"
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
			if err := f.validate(); err != nil {
				return err
			}
			cli, err := etcd.NewClient(f.client)
			if err != nil {
				return usageError{flagError(err, etcdFlagNames())}
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
				return usageError{flagError(err, etcdFlagNames())}
			}
			defer l.Close()
			s, err := f.store(cli, so, l, log.WithName("store"))
			if err != nil {
				return err
			}
			defer s.Close()
			// A won election counts once the store's view holds every write
			// up to the win: a new leader never acts on an old view.
			l.SetView(s)
			go func() { // say once why etcd does not answer, if it does not
				ctx, cancel := context.WithTimeout(cmd.Context(), f.readyWithin())
				defer cancel()
				if _, _, err := s.Load(ctx); err != nil && cmd.Context().Err() == nil {
					log.Error(err, "etcd does not answer", "endpoints", strings.Join(f.client.Endpoints, ","), "diagnosis", etcd.Diagnose(f.client))
				}
			}()
			// The election lease is the controller's lease too; Status.Expires
			// (last keep-alive answer + TTL - margin) bounds every confirmation.
			locs, err := etcd.NewLocation(cli, f.prefix, f.timeout)
			if err != nil {
				return usageError{flagError(err, etcdFlagNames())}
			}
			mo := modeOptions{lease: f.lease, renew: controller.DefaultOptions().RenewInterval,
				mode: "etcd", store: "etcd " + f.prefix + "/groups/", locations: locs}
			if f.handover == handoverFree {
				mo.handover = etcdHandover(l, g, log.WithName("handover"))
			}
			return runManager(cmd, g, log, l, s, mo)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringSliceVar(&f.client.Endpoints, "endpoints", nil, "etcd members' client URLs, comma-separated (required)")
	pf.StringVar(&f.prefix, "prefix", lo.Prefix, "key prefix of this manager group: <prefix>/election/, <prefix>/groups/")
	pf.StringVar(&f.client.CACert, "cacert", f.client.CACert, "CA certificate that signed the etcd members' certificates (PEM)")
	pf.StringVar(&f.client.Cert, "cert", f.client.Cert, "client TLS certificate (PEM), with --key")
	pf.StringVar(&f.client.Key, "key", f.client.Key, "client TLS key (PEM), with --cert")
	pf.DurationVar(&f.client.DialTimeout, "dial-timeout", f.client.DialTimeout, "deadline of connecting to an etcd member")
	pf.DurationVar(&f.timeout, "etcd-timeout", lo.CallTimeout, "deadline of every etcd call (at most a third of --lease-duration; lowered to that unless set)")
	pf.IntVar(&f.maxTxnOps, "max-txn-ops", so.MaxTxnOps, "the cluster's --max-txn-ops: one commit changes at most this many groups minus 2")
	fl := cmd.Flags()
	fl.DurationVar(&f.lease, "lease-duration", lo.LeaseDuration, "election lease TTL, whole seconds: a dead leader is replaced after about this long")
	fl.StringVar(&f.handover, "on-stop", handoverFree, `SIGTERM of the leader: "free" its groups while still holding the election, then resign (no group runs on two downstreams; a takeover waits for the frees), or "keep" them running and resign at once (fastest takeover; both downstreams run them until this manager restarts)`)
	fl.StringVar(&f.candidate, "candidate", "", "this manager's name in the election, shown as the leader (default <hostname>/<--name>)")
	cmd.AddCommand(newEtcdImportCmd(f, so), newEtcdExportCmd(f, so))
	return cmd
}

// The --on-stop choices (etcd; os and swarm have --handover fenced|fast, a different question).
const (
	handoverFree = "free"
	handoverKeep = "keep"
)

// validate refuses flags that would silently mean something else.
func (f *etcdFlags) validate() error {
	if f.handover != "" && f.handover != handoverFree && f.handover != handoverKeep {
		return usageError{fmt.Errorf(`--on-stop must be "free" or "keep", not %q`, f.handover)}
	}
	if f.prefix == "" {
		return usageError{errors.New(`--prefix must not be empty: give a key prefix such as /infrakit (the default)`)}
	}
	return nil
}

// readyWithin is how long import and export wait for the first listing:
// connecting (--dial-timeout) and the listing call (5 × --etcd-timeout).
func (f *etcdFlags) readyWithin() time.Duration { return f.client.DialTimeout + 5*f.timeout }

// store opens an etcd Store (fenced by fence when not nil); errors are usage.
func (f *etcdFlags) store(cli *clientv3.Client, so etcd.StoreOptions, fence etcd.Fencer, log logr.Logger) (*etcd.Store, error) {
	so.Prefix, so.CallTimeout, so.MaxTxnOps, so.Log = f.prefix, f.timeout, f.maxTxnOps, log
	if fence != nil {
		so.Fence = fence
	}
	s, err := etcd.NewStore(cli, so)
	if err != nil {
		return nil, usageError{flagError(err, etcdFlagNames())}
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
			if err := f.validate(); err != nil {
				return err
			}
			cfg, err := readImport(args[0])
			if err != nil {
				return err
			}
			cli, s, err := f.openUnfenced(cmd.Context(), so)
			if err != nil {
				return err
			}
			defer cli.Close()
			defer s.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			b := etcd.DefaultBatch()
			b.Groups = f.maxTxnOps - 2
			n, err := etcd.Import(ctx, s, cfg, b)
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
			if err := f.validate(); err != nil {
				return err
			}
			cli, s, err := f.openUnfenced(cmd.Context(), so)
			if err != nil {
				return err
			}
			defer cli.Close()
			defer s.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), f.readyWithin())
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

// openUnfenced opens an unfenced store and waits for its first listing,
// at most readyWithin: an unreachable endpoint or a TLS mistake fails
// then, naming the endpoints and etcd's answer.
func (f *etcdFlags) openUnfenced(ctx context.Context, so etcd.StoreOptions) (*clientv3.Client, *etcd.Store, error) {
	cli, err := etcd.NewClient(f.client)
	if err != nil {
		return nil, nil, usageError{flagError(err, etcdFlagNames())}
	}
	s, err := f.store(cli, so, nil, logr.Discard())
	if err != nil {
		_ = cli.Close()
		return nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, f.readyWithin())
	defer cancel()
	if _, _, err := s.Load(rctx); err != nil {
		_ = s.Close()
		_ = cli.Close()
		return nil, nil, fmt.Errorf("etcd at %s (--endpoints) did not answer within %s (--dial-timeout + 5 × --etcd-timeout): %w; diagnosis: %s",
			strings.Join(f.client.Endpoints, ","), f.readyWithin(), err, etcd.Diagnose(f.client))
	}
	return cli, s, nil
}

// readImport decodes a global.config or, failing that, a Swarm label value.
func readImport(path string) (sources.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return sources.Config{}, fmt.Errorf("import: %w", err)
	}
	if trimmed := strings.TrimSpace(string(data)); trimmed != "" && !strings.HasPrefix(trimmed, "{") {
		js, lerr := swarm.LabelJSON(trimmed)
		if lerr != nil {
			_, err := sources.DecodeConfig(data)
			return sources.Config{}, fmt.Errorf("import %s: neither a global.config (%v) nor a Swarm label value (%w)", path, err, lerr)
		}
		data = js
	}
	// strict: an ID that cannot be stored as written is refused, named,
	// before anything is written
	cfg, err := etcd.ParseImport(data)
	if err != nil {
		return sources.Config{}, fmt.Errorf("import %s: nothing written: %w", path, err)
	}
	return cfg, nil
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
