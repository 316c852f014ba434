package controller

import (
	"errors"
	"sort"
	"sync"

	"github.com/go-logr/logr"
	"github.com/infrakit-manager/manager/internal/claim"
)

// claimHealth is the outcome of each claim this replica took or verified:
// those it could not take or lost (misconfiguration) are problems for
// Status and /readyz, read from memory. (The last store write failure and
// the last downstream failure are the reconciler's.) Leaf mutex.
type claimHealth struct {
	mu     sync.Mutex
	claims map[string]error // by Claim.String(); nil: held
}

func newClaimHealth() *claimHealth { return &claimHealth{claims: map[string]error{}} }

// setClaim records the outcome of taking or verifying a claim and logs a
// change: at error level when the claim is lost or cannot be taken, at info
// when it is held again. A repeated outcome is not logged again.
func (h *claimHealth) setClaim(what string, err error, log logr.Logger) {
	h.mu.Lock()
	prev, seen := h.claims[what]
	h.claims[what] = err
	h.mu.Unlock()
	switch {
	case err != nil && (!seen || prev == nil || prev.Error() != err.Error()):
		if errors.Is(err, claim.ErrHeld) {
			log.Error(err, "misconfiguration: another manager holds this claim", "claim", what)
		} else {
			log.Error(err, "cannot check claim", "claim", what)
		}
	case err == nil && prev != nil:
		log.Info("claim held again", "claim", what)
	}
}

// Problems lists the claims not held, sorted: held by another process
// (a misconfiguration), or not checked (the lock file cannot be made, as in
// a store directory that vanished).
func (h *claimHealth) Problems() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, err := range h.claims {
		switch {
		case errors.Is(err, claim.ErrHeld):
			out = append(out, "misconfiguration: "+err.Error())
		case err != nil:
			out = append(out, "claim not checked: "+err.Error())
		}
	}
	sort.Strings(out)
	return out
}
