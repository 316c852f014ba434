package submit

import (
	"time"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// Snapshot is the reconciler's state as Manager.Status reports it, read
// from memory: taking one calls neither the store nor the downstream.
type Snapshot struct {
	Stored    int             // stored groups, decodable or not
	Version   sources.Version // of the store as last read or written
	StoreErr  error           // why the store is unreadable, if it is
	StoredIDs []plugin.ID     // sorted; pending destroys included
	Groups    []plugin.GroupStatus
	Time      time.Time
	Handover  *plugin.HandoverStatus // nil if this replica never led
	// HandoverProblem is the newest handover's wait when it has taken
	// longer than the margin, or "".
	HandoverProblem string
	// Problems are the store's last write's and the downstream's.
	Problems []string
}
