package controller

import "github.com/infrakit-manager/manager/controller/reconciler"

// Summary counts what one --once pass did (reconciler.Summary).
type Summary = reconciler.Summary

// Plan is the decision for one group, with the reason in words
// (reconciler.Plan).
type Plan = reconciler.Plan

// Action is what one reconcile of one group does (reconciler.Action).
type Action = reconciler.Action

// The actions.
const (
	ActionNoop    = reconciler.ActionNoop
	ActionCommit  = reconciler.ActionCommit
	ActionFree    = reconciler.ActionFree
	ActionDestroy = reconciler.ActionDestroy
	ActionWait    = reconciler.ActionWait
)

// Handover modes (Options.Handover, --handover).
const (
	// HandoverFenced: a new leader changes nothing downstream until the
	// previous holder has released or its lease has certainly run out.
	HandoverFenced = reconciler.HandoverFenced
	// HandoverFast: a new leader acts at once; the two may overlap.
	HandoverFast = reconciler.HandoverFast
)
