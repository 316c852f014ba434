// Package submit is what crosses from the front (the Group and Manager API)
// to the reconciler: a Change (one user's request for one group), the
// Receipt that answers it, the read-only Snapshot the front's Status
// reports from, and the errors both sides name. It holds types only: the
// front declares the interface it calls (front.Reconciler) and the
// reconciler implements it; neither imports the other.
package submit
