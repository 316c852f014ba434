package groupsim

import (
	"fmt"
	"maps"
	"strings"

	"github.com/infrakit-manager/manager/plugin"
)

// group is the state of one managed group.
type group struct {
	want      desired
	instances []plugin.InstanceDescription // in creation order
}

// plan is what a commit changes in an existing group.
type plan struct {
	keep    []plugin.InstanceDescription // unchanged
	update  []plugin.InstanceDescription // kept slot, replaced with the new configuration
	remove  []plugin.InstanceDescription // terminated
	add     []*string                    // new slots, by logical ID (nil in Size mode)
	oldSize int
	newSize int
}

// planCommit compares a group's instances with the desired state. Size mode
// keeps the oldest instances; LogicalIDs mode keeps instances by logical ID;
// a switch between the two modes replaces every instance.
func planCommit(old *group, next desired) plan {
	p := plan{oldSize: len(old.instances), newSize: next.size}
	changed := old.want.configSHA != next.configSHA
	keepOrUpdate := func(inst plugin.InstanceDescription) {
		if changed {
			p.update = append(p.update, inst)
		} else {
			p.keep = append(p.keep, inst)
		}
	}
	oldLogical := old.want.logicalIDs != nil
	newLogical := next.logicalIDs != nil
	switch {
	case !oldLogical && !newLogical:
		for i, inst := range old.instances {
			if i < next.size {
				keepOrUpdate(inst)
			} else {
				p.remove = append(p.remove, inst)
			}
		}
		for i := len(old.instances); i < next.size; i++ {
			p.add = append(p.add, nil)
		}
	case oldLogical && newLogical:
		wanted := make(map[string]bool, len(next.logicalIDs))
		for _, lid := range next.logicalIDs {
			wanted[lid] = true
		}
		have := make(map[string]bool, len(old.instances))
		for _, inst := range old.instances {
			if inst.LogicalID != nil && wanted[*inst.LogicalID] {
				have[*inst.LogicalID] = true
				keepOrUpdate(inst)
			} else {
				p.remove = append(p.remove, inst)
			}
		}
		for _, lid := range next.logicalIDs {
			if !have[lid] {
				p.add = append(p.add, &lid)
			}
		}
	default:
		p.remove = append(p.remove, old.instances...)
		for _, lid := range next.logicalIDs {
			p.add = append(p.add, &lid)
		}
		for i := len(p.add); i < next.size; i++ {
			p.add = append(p.add, nil)
		}
	}
	return p
}

// details describes the plan the way the original's update plans read, e.g.
// "Performing a rolling update on 5 instances, then adding 5 instances to
// increase the group size to 10", or "Noop".
func (p plan) details() string {
	var steps []string
	if n := len(p.remove); n > 0 {
		if p.newSize < p.oldSize {
			steps = append(steps, fmt.Sprintf("terminating %d instances to reduce the group size to %d", n, p.newSize))
		} else {
			steps = append(steps, fmt.Sprintf("terminating %d instances", n))
		}
	}
	if n := len(p.update); n > 0 {
		steps = append(steps, fmt.Sprintf("performing a rolling update on %d instances", n))
	}
	if n := len(p.add); n > 0 {
		if p.newSize > p.oldSize {
			steps = append(steps, fmt.Sprintf("adding %d instances to increase the group size to %d", n, p.newSize))
		} else {
			steps = append(steps, fmt.Sprintf("adding %d instances", n))
		}
	}
	if len(steps) == 0 {
		return "Noop"
	}
	s := strings.Join(steps, ", then ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// newInstance describes a fresh instance of the desired configuration.
func newInstance(id string, logicalID *string, want desired) plugin.InstanceDescription {
	var lid *string
	if logicalID != nil {
		v := *logicalID
		lid = &v
	}
	return plugin.InstanceDescription{ID: id, LogicalID: lid, Tags: maps.Clone(want.tags)}
}
