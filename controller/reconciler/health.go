package reconciler

import (
	"errors"
	"fmt"

	"github.com/infrakit-manager/manager/plugin"
)

// failure is the error of the last InspectGroups, nil after a success.
func (o *observed) failure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// downstreamProblem says why the downstream could not be observed: not
// found (a misspelled --proxy-for-group) or not answering.
func (r *Reconciler) downstreamProblem() error {
	proxyFor, pluginDir := r.proxyFor, r.pluginDir
	err := r.obs.failure()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, plugin.ErrPluginNotFound):
		return fmt.Errorf("downstream %q not found in %s (check --proxy-for-group and --plugin-dir): %w", proxyFor, pluginDir, err)
	default:
		return fmt.Errorf("downstream %q not answering: %w", proxyFor, err)
	}
}

// healthProblems are the problems Status adds from the store's last write
// and the downstream (the daemon adds its claims').
func (r *Reconciler) healthProblems() []string {
	var out []string
	if err := r.bounded.writeFailure(); err != nil {
		out = append(out, "store cannot be written: the last write failed: "+err.Error())
	}
	if err := r.downstreamProblem(); err != nil {
		out = append(out, err.Error())
	}
	return out
}
