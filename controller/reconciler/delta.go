package reconciler

import (
	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// deltaOf is the members' changes applied to the entries of ids alone (the
// groups they change), taken from base: what a store that can be told the
// changed groups (sources.ChangeSaver, sources.ChangeStager) is handed
// instead of the whole config.
func deltaOf(base sources.Config, reqs []*writeReq, ids []plugin.ID) sources.Config {
	delta := sources.Config{Groups: make(map[plugin.ID]sources.Entry, len(ids)), Destroying: map[plugin.ID]sources.Entry{}}
	for _, id := range ids {
		if e, ok := base.Groups[id]; ok {
			delta.Groups[id] = e
		}
		if e, ok := base.Destroying[id]; ok {
			delta.Destroying[id] = e
		}
	}
	for _, req := range reqs {
		req.mutate(&delta)
	}
	return delta
}
