// Package etcdtest runs throw-away etcd clusters from Go tests: real etcd
// members started by hack/etcd-lab.sh on free loopback ports, each lab in
// its own temp directory, so labs of different test binaries can run at once.
//
// RequireEtcd holds the one skip policy: without the etcd binary or the lab
// script a test is skipped, except under CI=true, where it fails (CI must
// never skip silently). Limits: Linux only; a test binary killed hard
// (SIGKILL) leaves its members behind: their directory is $TMPDIR/iketcd*,
// and `LAB=<dir> hack/etcd-lab.sh down` stops them.
package etcdtest
