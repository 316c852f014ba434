// Command infrakit-manager is the high-availability front end of an InfraKit
// group plugin: it serves the Group API, stores every committed group, and
// while it leads keeps the downstream group plugin running exactly the
// stored groups. See the README for the modes and every flag.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and maps the outcome to an exit code:
// 0 success (or converged with --once), 1 failure (or an action failed with
// --once), 2 bad usage.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	var ex exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, "infrakit-manager:", ex.msg)
		}
		return ex.code
	default:
		fmt.Fprintln(os.Stderr, "infrakit-manager:", err)
		if isUsage(err) {
			return 2
		}
		return 1
	}
}

// exitError carries a chosen exit code out of a command.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }
