package labscript

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Find returns the lab script: $envVar when set, else the first hack/<name>
// in the working directory or one of its parents.
func Find(name, envVar string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "hack", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("hack/%s not found above the working directory; set %s", name, envVar)
		}
		dir = parent
	}
}

// Script is a lab script bound to one lab: Env holds its LAB= (and any
// other) variables.
type Script struct {
	Path string
	Env  []string
}

// Run runs one verb of the script with a deadline and returns what it
// printed on stdout (its answer); a failure's error holds the verb and
// what it printed on stderr.
func (s Script) Run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path, args...)
	cmd.Env = append(os.Environ(), s.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The daemons a script starts write to their own logs, so they hold no
	// pipe of ours; WaitDelay guards against one that would.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(s.Path), strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()+"\n"+stdout.String()))
	}
	return stdout.String(), nil
}

// Must is Run that fails t on an error.
func (s Script) Must(t testing.TB, timeout time.Duration, args ...string) string {
	t.Helper()
	out, err := s.Run(context.Background(), timeout, args...)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	return out
}

// Status is the script's status verb; it never fails (errors are in it).
func (s Script) Status(timeout time.Duration) string {
	out, err := s.Run(context.Background(), timeout, "status")
	if err != nil {
		return out + "\n" + err.Error()
	}
	return out
}

// Lab is what Start needs of a started lab.
type Lab interface {
	Status() string
	Close() error
}

// Start ties a lab that newLab started to t: t's cleanup closes it
// (logging its status first if t failed), also when newLab failed half
// way with a non-nil lab; a failure to start fails t.
func Start[L Lab](t testing.TB, what string, newLab func() (L, bool, error)) L {
	t.Helper()
	l, ok, err := newLab()
	if ok {
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s status at failure:\n%s", what, l.Status())
			}
			if err := l.Close(); err != nil {
				t.Errorf("%s teardown: %v", what, err)
			}
		})
	}
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	return l
}

// Downer runs a lab's "down" verb once: a lab's Close is idempotent.
type Downer struct {
	mu   sync.Mutex
	done bool
}

// Down runs s's "down" the first time it is called and returns nil after.
func (d *Downer) Down(s Script, timeout time.Duration) error {
	d.mu.Lock()
	done := d.done
	d.done = true
	d.mu.Unlock()
	if done {
		return nil
	}
	_, err := s.Run(context.Background(), timeout, "down")
	return err
}

// ReapAfter starts a detached watcher that runs the script's "down" for
// this lab once process pid has exited while the lab directory (the
// script's LAB) still exists: a test binary that go test's -timeout killed,
// or one killed from outside, never runs its cleanups, and its lab would
// otherwise keep running. The watcher polls once a second and ends by
// itself once the lab is gone; it holds no pipe of the caller's.
func (s Script) ReapAfter(pid int) error {
	lab := ""
	for _, e := range s.Env {
		if v, ok := strings.CutPrefix(e, "LAB="); ok {
			lab = v
		}
	}
	if lab == "" {
		return fmt.Errorf("reap %s: no LAB= in the script's environment", filepath.Base(s.Path))
	}
	const watch = `while kill -0 "$1" 2>/dev/null && [ -d "$LAB" ]; do sleep 1; done
[ -d "$LAB" ] && exec "$2" down >/dev/null 2>&1
exit 0`
	cmd := exec.Command("/bin/sh", "-c", watch, "lab-reaper", strconv.Itoa(pid), s.Path)
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives the caller's process group
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("reap %s: %w", filepath.Base(s.Path), err)
	}
	return cmd.Process.Release()
}

// Context is the context a test's calls to a lab (or a process talking to
// one) run under: it ends after d, or when t ends, so a lab member that is
// down fails the call with a deadline instead of hanging the test until go
// test's -timeout.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
