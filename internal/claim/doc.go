// Package claim detects two managers configured to do one manager's job:
// a File is an exclusive claim on something one process must own alone (a
// downstream group plugin, a --name on a shared store), held as an
// flock(2) on a small lock file that also says who holds it (name, host,
// pid, since). A second process that tries to take the same claim gets
// ErrHeld naming the holder. The lock is released by the kernel when the
// holder exits, however it exits, so a restart never finds a stale claim.
//
// Verify re-checks a taken claim: the lock file at the path must still be
// the file this process locked. If it was removed or replaced (the
// directory emptied, swapped or mounted over), a second process may have
// taken a new file there at its start without being refused; Verify then
// tries the lock of the file now at the path and fails with ErrHeld if
// someone holds it. It never keeps that file open, so a claim never pins a
// file system mounted over its directory (the lock file it did take stays
// open, and pins the file system it is on, as any open file does).
//
// Limits: flock is advisory and only excludes processes that take the same
// claim (the original v0.1.0 manager takes none). It works between the
// processes of one host on any local file system; across hosts only on a
// shared file system whose flock is shared (NFSv4 with working locks, where
// Linux emulates flock with byte-range locks; not NFS mounted nolock, where
// each host sees only its own locks). A unix socket is always local, so a
// claim beside a downstream socket is exact; a claim in a shared store
// directory is as good as the file system's locking.
package claim
