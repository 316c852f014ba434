package controller

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/infrakit-manager/manager/internal/claim"
)

// Claim is an exclusive hold this replica keeps while it runs, so that two
// managers configured to do one manager's job are caught
// (internal/claim.File: an flock'd file that names its holder). The
// controller takes every claim at start (Manager.Start after the socket is
// served, RunOnce before it acts) and verifies them every resync interval.
type Claim interface {
	// Take takes the claim; an error wrapping claim.ErrHeld means another
	// process holds it.
	Take() error
	// Verify checks the claim is still held, taking it again if its file
	// was replaced; claim.ErrHeld means another process took it.
	Verify() error
	// Release gives the claim up.
	Release()
	// String says what is claimed, for logs and status.
	String() string
}

var _ Claim = (*claim.File)(nil)

// DownstreamClaim is the claim every manager takes on the downstream it
// drives: <plugin-dir>/<proxy-for-group>.lock, beside the downstream's
// socket. A unix socket is local, so two managers driving one downstream
// share this file and the second is refused.
func DownstreamClaim(pluginDir, proxyFor, name string) Claim {
	return claim.New(filepath.Join(pluginDir, proxyFor+".lock"),
		fmt.Sprintf("downstream %q (--proxy-for-group in --plugin-dir %s)", proxyFor, pluginDir), claim.Self(name))
}

// NameClaim is os mode's claim on --name in a shared store directory:
// <store-dir>/.manager-<name>.lock. Two managers with the same --name on one
// leader file and store would both lead; the second is refused.
func NameClaim(storeDir, name string) Claim {
	return claim.New(filepath.Join(storeDir, ".manager-"+name+".lock"),
		fmt.Sprintf("--name %q on the store in %s", name, storeDir), claim.Self(name))
}

// takeClaims takes every claim. Another process holding one is a
// misconfiguration: it returns an error wrapping ErrMisconfigured and
// releases what it took. A claim that cannot be taken for another reason
// (the lock file cannot be made) is logged at error level, reported in
// status and tried again at the next verify; it does not stop the start.
func (m *Manager) takeClaims() error {
	for i, c := range m.opts.Claims {
		err := c.Take()
		if errors.Is(err, claim.ErrHeld) {
			for _, taken := range m.opts.Claims[:i] {
				taken.Release()
			}
			m.opts.Log.Error(err, "misconfiguration: another manager holds this claim; refusing to act", "claim", c.String())
			return fmt.Errorf("%w: %w", ErrMisconfigured, err)
		}
		m.claims.setClaim(c.String(), err, m.opts.Log)
	}
	return nil
}

// verifyClaims re-checks every claim, logging each change of outcome once.
func (m *Manager) verifyClaims() {
	for _, c := range m.opts.Claims {
		m.claims.setClaim(c.String(), c.Verify(), m.opts.Log)
	}
}

// releaseClaims gives every claim up (at Stop, and after RunOnce).
func (m *Manager) releaseClaims() {
	for _, c := range m.opts.Claims {
		c.Release()
	}
}
