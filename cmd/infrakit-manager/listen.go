package main

import (
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/infrakit-manager/manager/controller"
	"github.com/infrakit-manager/manager/forward"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// listenFlags are --listen, the TLS files, --insecure, --advertise and
// --forward: the Group API over TCP, and followers forwarding to the leader.
type listenFlags struct {
	listen    string
	advertise string
	tls       plugin.TLSFiles
	insecure  bool
	forward   bool
	flags     *pflag.FlagSet // to tell an explicit --forward from the default
	// forwarding is what apply decided: followers forward.
	forwarding bool
}

func (l *listenFlags) register(pf *pflag.FlagSet) {
	l.flags = pf
	pf.StringVar(&l.listen, "listen", "", "also serve the Group and Manager API at tcp://HOST:PORT (plaintext only on a loopback address or with --insecure)")
	pf.StringVar(&l.advertise, "advertise", "", "URL other managers and clients reach this one at (default: from --listen, https:// with TLS); the leader publishes it")
	pf.StringVar(&l.tls.Cert, "tls-cert", "", "PEM certificate of the TCP listener (and of forwarded calls)")
	pf.StringVar(&l.tls.Key, "tls-key", "", "PEM private key of --tls-cert")
	pf.StringVar(&l.tls.CA, "tls-ca", "", "PEM CA: client certificates are required and checked against it (mutual TLS); forwarded calls check the leader with it")
	pf.BoolVar(&l.insecure, "insecure", false, "allow plaintext TCP on a non-loopback --listen address (logs a warning)")
	pf.BoolVar(&l.forward, "forward", false, "followers forward Group API writes, describe and inspect to the leader (default on with --listen and mutual TLS)")
}

// apply sets the TCP listener, the advertised URL, the location store and
// the forwarding layer on o. locs is the mode's location store (nil: the
// mode publishes none).
func (l *listenFlags) apply(o *controller.Options, locs sources.LocationStore, log logr.Logger) error {
	forwardSet := l.flags != nil && l.flags.Changed("forward")
	if l.listen == "" {
		switch {
		case !l.tls.Empty() || l.insecure:
			return errors.New("--tls-cert, --tls-key, --tls-ca and --insecure need --listen")
		case l.forward:
			return errors.New("--forward needs --listen (the leader must be reachable over TCP)")
		}
	}
	if l.listen != "" {
		addr, err := plugin.ParseTCPAddress(l.listen)
		if err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		tcp := &plugin.TCPOptions{Addr: addr, Insecure: l.insecure}
		if !l.tls.Empty() {
			if tcp.TLS, err = l.tls.ServerConfig(); err != nil {
				return err
			}
		}
		if err := tcp.Validate(); err != nil {
			return flagError(err, tcpFlags())
		}
		o.TCP = tcp
		if l.advertise == "" {
			l.advertise = tcp.URL(addr)
		}
	}
	o.Advertise, o.Locations = l.advertise, locs
	// Forwarding defaults on with mutual TLS only: a forwarded call then
	// authenticates both ends with the managers' certificates and never
	// crosses the network in plaintext; and it needs a published location.
	mutual := l.tls.CA != "" && l.tls.Cert != ""
	fwd := l.forward
	if !forwardSet {
		fwd = l.listen != "" && mutual && locs != nil
	}
	l.forwarding = fwd
	if fwd && locs == nil {
		return fmt.Errorf("--forward: mode %s does not publish the leader's location yet", o.Mode)
	}
	fo := forward.DefaultOptions()
	fo.Forward, fo.Advertise, fo.NotLeader, fo.Log = fwd, l.advertise, controller.ErrNotLeader, log.WithName("forward")
	if fwd && l.tls.CA != "" {
		c, err := l.tls.ClientConfig()
		if err != nil {
			return fmt.Errorf("--forward: %w", err)
		}
		fo.TLS = c
	}
	if err := fo.Validate(); err != nil {
		return flagError(err, map[string]string{"Advertise": "--advertise (or --listen)", "Forward": "--forward"})
	}
	o.Wrap = func(g plugin.Group) plugin.Group {
		local, ok := g.(forward.Local)
		if !ok {
			return g
		}
		f, err := forward.New(local, fo)
		if err != nil { // validated above
			return g
		}
		return f
	}
	if o.TCP != nil {
		log.Info("tcp listener configured", "listen", l.listen, "advertise", l.advertise, "forward", fwd, "mutualTLS", mutual)
	}
	return nil
}
