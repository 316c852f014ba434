package groupsim

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/infrakit-manager/manager/plugin"
)

// Tag keys the plugin sets on every instance.
const (
	TagGroup     = "infrakit.group"
	TagConfigSHA = "infrakit.config_sha"
)

// properties is the group plugin's Properties schema. The field order is the
// original's, and InspectGroups re-serialises it in this order, which is why
// Inspect answers {"Instance":…,"Flavor":…,"Allocation":{"Size":2,"LogicalIDs":null}}.
type properties struct {
	Instance   pluginRef
	Flavor     pluginRef
	Allocation allocation
}

type pluginRef struct {
	Plugin     string
	Properties *json.RawMessage
}

type allocation struct {
	Size       uint
	LogicalIDs []string
}

// flavorProperties is the part of a vanilla flavor's properties the
// simulator uses: its tags are put on every instance.
type flavorProperties struct {
	Init []string
	Tags map[string]string
}

// desired is a validated commit: what the group should look like.
type desired struct {
	spec       plugin.Spec
	props      properties
	configSHA  string
	tags       map[string]string // all tags of an instance, infrakit.* included
	logicalIDs []string          // nil in Size mode
	size       int
}

// parseSpec validates a spec in the original's order and texts: ID, then
// properties, then allocation; then the flavor's properties.
func parseSpec(spec plugin.Spec, maxInstances int) (desired, error) {
	return parseSpecCached(spec, maxInstances, nil)
}

// parseSpecCached is parseSpec with the properties' parse looked up in c.
func parseSpecCached(spec plugin.Spec, maxInstances int, c *specCache) (desired, error) {
	if spec.ID == "" {
		return desired{}, invalidSpec("Group ID must not be blank")
	}
	pp, err := c.parse(spec.Properties, maxInstances)
	if err != nil {
		return desired{}, err
	}
	d := desired{spec: spec, props: pp.props, configSHA: pp.sha, logicalIDs: pp.logicalIDs, size: pp.size}
	d.tags = make(map[string]string, len(pp.flavorTags)+2)
	for k, v := range pp.flavorTags {
		d.tags[k] = v
	}
	d.tags[TagGroup] = string(spec.ID)
	d.tags[TagConfigSHA] = pp.sha
	return d, nil
}

// parsedProps is what a spec's properties say, whatever the group: shared
// (never modified) by the groups committed with the same properties.
type parsedProps struct {
	props      properties
	flavorTags map[string]string
	sha        string
	logicalIDs []string // nil in Size mode
	size       int
}

// parseProps validates properties in the original's order and texts:
// properties, then allocation; then the flavor's properties.
func parseProps(raw []byte, maxInstances int, shas *shaCache) (parsedProps, error) {
	var props properties
	if raw := bytes.TrimSpace(raw); len(raw) > 0 {
		if err := json.Unmarshal(raw, &props); err != nil {
			return parsedProps{}, invalidSpec("Invalid properties: %s", err)
		}
	}
	alloc := props.Allocation
	switch {
	case alloc.Size == 0 && len(alloc.LogicalIDs) == 0:
		return parsedProps{}, invalidSpec("Allocation must not be blank")
	case alloc.Size > 0 && len(alloc.LogicalIDs) > 0:
		return parsedProps{}, invalidSpec("Only one Allocation method may be used")
	}
	pp := parsedProps{props: props}
	if alloc.Size > 0 {
		if alloc.Size > uint(maxInstances) {
			return parsedProps{}, invalidSpec("Allocation size %d exceeds the simulator's limit of %d instances", alloc.Size, maxInstances)
		}
		pp.size = int(alloc.Size)
	} else {
		if len(alloc.LogicalIDs) > maxInstances {
			return parsedProps{}, invalidSpec("Allocation of %d logical IDs exceeds the simulator's limit of %d instances", len(alloc.LogicalIDs), maxInstances)
		}
		seen := make(map[string]bool, len(alloc.LogicalIDs))
		for _, lid := range alloc.LogicalIDs {
			if seen[lid] {
				return parsedProps{}, invalidSpec("Duplicate logical ID '%s'", lid)
			}
			seen[lid] = true
		}
		pp.logicalIDs = alloc.LogicalIDs
		pp.size = len(alloc.LogicalIDs)
	}
	var flavor flavorProperties
	if props.Flavor.Properties != nil {
		if err := json.Unmarshal(*props.Flavor.Properties, &flavor); err != nil {
			return parsedProps{}, invalidSpec("Invalid flavor properties: %s", err)
		}
	}
	sha, err := shas.sum(props)
	if err != nil {
		return parsedProps{}, invalidSpec("Invalid properties: %s", err)
	}
	pp.sha, pp.flavorTags = sha, flavor.Tags
	return pp, nil
}

// configSHA is the original's instance hash: base64url(sha1) over the stable
// JSON of Instance then Flavor, so that key order does not matter.
func configSHA(p properties) (string, error) {
	h := sha1.New()
	for _, part := range []pluginRef{p.Instance, p.Flavor} {
		b, err := stableJSON(part)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return base64.URLEncoding.EncodeToString(h.Sum(nil)), nil
}

// stableJSON renders r with sorted keys. The exact bytes (indented with a
// two-space prefix and indent) are what the original hashed, so the hashes
// match those seen on the wire. The original re-encoded r and decoded that
// into a map; r's properties are decoded directly here, to the same map.
func stableJSON(r pluginRef) ([]byte, error) {
	var props any
	if r.Properties != nil {
		if err := json.Unmarshal(*r.Properties, &props); err != nil {
			return nil, fmt.Errorf("unmarshal: %w", err)
		}
	}
	return json.MarshalIndent(map[string]any{"Plugin": r.Plugin, "Properties": props}, "  ", "  ")
}

// inspectSpec re-serialises the parsed properties in the original's struct
// order (adding "LogicalIDs":null in Size mode), or with verbatim answers
// the spec as committed.
func (d desired) inspectSpec(verbatim bool) (plugin.Spec, error) {
	if verbatim {
		return d.spec, nil
	}
	b, err := json.Marshal(d.props)
	if err != nil {
		return plugin.Spec{}, fmt.Errorf("marshal properties of group %q: %w", d.spec.ID, err)
	}
	return plugin.Spec{ID: d.spec.ID, Properties: b}, nil
}
