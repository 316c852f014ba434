// Package labscript drives the project's throw-away lab scripts
// (hack/swarm-lab.sh, hack/etcd-lab.sh) for tests: it finds a script, runs
// its verbs for one lab directory with a deadline, and ties a lab's life to
// a test. The swarmtest and etcdtest packages build their Lab types on it.
//
// Limits: a script is found through its environment variable or by walking
// up from the working directory to a hack/ folder; verbs run with the
// script's combined output as the answer.
package labscript
