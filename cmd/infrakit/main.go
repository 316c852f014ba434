// Command infrakit is the InfraKit client CLI: it drives a group plugin (the
// manager, or any Group plugin) over its unix socket in the plugin directory.
//
//	infrakit [--log N] [--plugin-dir DIR] [--timeout 30s] group [--name group] commit FILE|- [--pretend]
//	infrakit group free|describe [-q]|inspect|destroy ID
//	infrakit group ls [-q]
//	infrakit plugin ls [-q]
//	infrakit manager [--name group] status [-o text|json]   (exit 1 when not healthy)
//	infrakit manager leader
//	infrakit completion bash|zsh|fish
//	infrakit version
//
// Output follows the original v0.1.0 CLI. Global flags may come before or
// after the subcommand.
//
// Exit codes: 0 on success; 1 when a command fails (plugin missing or
// unreachable, plugin error, bad spec file), with a logrus-style line
// `time="…" level=fatal msg=…` on stderr, as the original; 2 on a usage
// error (unknown command or flag, wrong number of arguments), with cobra's
// message on stderr.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
