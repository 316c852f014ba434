package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/infrakit-manager/manager/sources/swarm"
)

func newSwarmCmd(g *globals) *cobra.Command {
	co := swarm.DefaultClientOptions()
	var (
		maxLabel int
		mo       = modeOptions{lease: swarm.DefaultLeaseDuration, renew: swarm.DefaultPollInterval, mode: "swarm", store: "swarm cluster spec label \"infrakit\""}
	)
	cmd := &cobra.Command{
		Use:   "swarm",
		Short: "Leader = the local Swarm manager is the Raft leader; groups stored in a Swarm label",
		Long: `swarm mode: this manager leads while the local Docker Swarm manager node is
the Raft leader. Committed groups are stored in the cluster spec's label
"infrakit" as base64(zlib(JSON)), compatible with the original InfraKit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := g.log
			if scheme, _, _ := strings.Cut(co.Host, "://"); co.Host != "" && scheme != "unix" && scheme != "tcp" {
				return usageError{fmt.Errorf("--host must be unix://PATH or tcp://HOST:PORT, got %q", co.Host)}
			}
			c, err := swarm.NewClient(co)
			if err != nil {
				return usageError{flagError(err, swarmFlags())}
			}
			defer c.Close()
			lo := swarm.DefaultLeadershipOptions()
			lo.Log = log.WithName("leader")
			l, err := swarm.NewLeadership(c, lo)
			if err != nil {
				return usageError{err}
			}
			so := swarm.DefaultStoreOptions()
			so.MaxLabelBytes, so.Log = maxLabel, log.WithName("store")
			s, err := swarm.NewStore(c, so)
			if err != nil {
				return usageError{flagError(err, swarmFlags())}
			}
			// Reading the location inspects the whole cluster spec: once a second.
			mo.locationEvery = time.Second
			if mo.locations, err = swarm.NewLocation(c, ""); err != nil {
				return usageError{err}
			}
			return runManager(cmd, g, log, l, s, mo)
		},
	}
	f := cmd.Flags()
	f.StringVar(&co.Host, "host", co.Host, "Docker engine address ($DOCKER_HOST, else unix:///var/run/docker.sock)")
	f.StringVar(&co.TLSCACert, "tlscacert", co.TLSCACert, "CA certificate that signed the engine's certificate")
	f.StringVar(&co.TLSCert, "tlscert", co.TLSCert, "client TLS certificate")
	f.StringVar(&co.TLSKey, "tlskey", co.TLSKey, "client TLS key")
	f.BoolVar(&co.TLSVerify, "tlsverify", co.TLSVerify, "verify the engine's TLS certificate (the original's flag of this name turned verification off)")
	f.DurationVar(&co.CallTimeout, "engine-timeout", co.CallTimeout, "deadline of every Docker API call (followers hang 20s while the Raft leader is gone)")
	f.DurationVar(&mo.renew, "poll-interval", mo.renew, "how often Raft leadership is re-checked besides node events")
	f.DurationVar(&mo.lease, "lease-duration", mo.lease, "how long an engine that does not answer keeps the current role before stepping down (below the Swarm's 10 s+ election)")
	f.IntVar(&maxLabel, "max-label-bytes", swarm.DefaultStoreOptions().MaxLabelBytes, "refuse a config whose encoded label exceeds this many bytes (Raft caps the cluster object near 1.5 MiB)")
	mo.addHandoverFlags(cmd)
	return cmd
}
