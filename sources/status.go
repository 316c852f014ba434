package sources

import "time"

// Status is what one leadership check found.
type Status struct {
	Leader  bool      // this replica leads
	Holder  string    // who leads, when the source knows it ("" when unknown)
	Expires time.Time // if not zero: the controller never acts on this confirmation after this instant (from time.Now(), monotonic)
}
