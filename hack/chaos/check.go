package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/infrakit-manager/manager/internal/invariant"
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// effects reads every simulator's event logs (one file per incarnation):
// the changes each downstream completed.
func (c *chaos) effects() ([]invariant.Effect, error) {
	var out []invariant.Effect
	for _, n := range c.nodes {
		files, err := filepath.Glob(filepath.Join(c.dir, n.name+".events.*"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			evs, err := groupsim.ReadEventFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for _, e := range evs {
				if !e.OK {
					continue
				}
				out = append(out, invariant.Effect{Manager: n.name, Group: e.Group, Kind: invariant.Kind(e.Op), At: time.Unix(0, e.T)})
			}
		}
	}
	return out, nil
}

// final reads the end state: the stored groups (the leader's InspectGroups,
// which answers the shared store), what every downstream runs, and how many
// groups each manager keeps state for.
func (c *chaos) final(ctx context.Context) (invariant.Final, error) {
	f := invariant.Final{Leader: c.cl.holder(), Stored: map[string]string{}, Running: map[string]map[string]string{}, Tracked: map[string]int{}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for i, n := range c.nodes {
		cl := c.client(i)
		st, err := cl.Status(ctx)
		if err != nil {
			cl.Close()
			return f, fmt.Errorf("%s status: %w", n.name, err)
		}
		f.Tracked[n.name] = len(st.Groups)
		if n.name == f.Leader {
			if st.Role != "leader" {
				f.Leader = ""
			}
			specs, err := cl.InspectGroups(ctx)
			if err != nil {
				cl.Close()
				return f, fmt.Errorf("%s inspect: %w", n.name, err)
			}
			for _, s := range specs {
				f.Stored[string(s.ID)] = invariant.VersionOf(s.Properties)
			}
		}
		cl.Close()
		o := plugin.DefaultClientOptions()
		sim := plugin.NewClient(filepath.Join(n.pluginDir, "group-stateless"), o)
		specs, err := sim.InspectGroups(ctx)
		sim.Close()
		if err != nil {
			return f, fmt.Errorf("%s's simulator: %w", n.name, err)
		}
		run := map[string]string{}
		for _, s := range specs {
			run[string(s.ID)] = invariant.VersionOf(s.Properties)
		}
		f.Running[n.name] = run
	}
	return f, nil
}

// check waits (at most bound) for the managers to converge, then applies
// every invariant to the whole history.
func (c *chaos) check(ctx context.Context, rules invariant.Rules, bound time.Duration) ([]invariant.Violation, int, error) {
	deadline := time.Now().Add(bound)
	for {
		h := c.rec.history()
		var err error
		if h.Effects, err = c.effects(); err != nil {
			return nil, 0, err
		}
		f, ferr := c.final(ctx)
		if ferr == nil {
			h.Final = &f
			vs, frozen := invariant.Check(h, rules)
			if len(vs) == 0 || time.Now().After(deadline) {
				return vs, frozen, nil
			}
			if settled(vs) {
				return vs, frozen, nil
			}
		} else if time.Now().After(deadline) {
			return []invariant.Violation{{Rule: invariant.RuleConverged, Detail: ferr.Error()}}, 0, nil
		}
		sleep(ctx, 250*time.Millisecond)
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
	}
}

// settled: a violation that waiting cannot undo (a rule on the history).
func settled(vs []invariant.Violation) bool {
	for _, v := range vs {
		if v.Rule != invariant.RuleConverged && v.Rule != invariant.RuleBounded && v.Rule != invariant.RuleAckedWrite {
			return true
		}
	}
	return false
}

func joinViolations(vs []invariant.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  VIOLATION " + v.String() + "\n")
	}
	return b.String()
}

// trace is the schedule, then the requests and downstream changes of every
// group a violation names.
func (c *chaos) trace(vs []invariant.Violation) string {
	var b strings.Builder
	b.WriteString(c.rec.trace())
	h := c.rec.history()
	effects, _ := c.effects()
	sort.Slice(effects, func(i, j int) bool { return effects[i].At.Before(effects[j].At) })
	for _, g := range groups {
		named := false
		for _, v := range vs {
			named = named || strings.Contains(v.Detail, " "+g+" ")
		}
		if !named {
			continue
		}
		fmt.Fprintf(&b, "group %s:\n", g)
		for _, q := range h.Requests {
			if q.Group == g {
				fmt.Fprintf(&b, "  %s-%s %s\n", q.Start.Format("15:04:05.000000"), q.End.Format("15:04:05.000000"), q)
			}
		}
		for _, e := range effects {
			if e.Group == g {
				b.WriteString("  " + e.String() + "\n")
			}
		}
	}
	return b.String()
}
