package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Binary names in the build directory.
const (
	binManager = "infrakit-manager"
	binSim     = "infrakit-group-sim"
)

const (
	// socketWait bounds how long a started process may take to serve.
	socketWait = 20 * time.Second
	// stopWait bounds a graceful stop before SIGKILL.
	stopWait = 10 * time.Second
)

// proc is a process the harness started. Its stdout and stderr go to files
// in the run's directory.
type proc struct {
	name   string
	cmd    *exec.Cmd
	output string // path of the captured stdout+stderr
	done   chan struct{}
	err    error // the Wait result, set before done is closed
}

// procs starts processes and stops every one still running on close.
type procs struct {
	dir string // where output files go

	mu   sync.Mutex
	list []*proc
	seq  int
}

// start runs bin with args. The child is sent SIGTERM if the harness dies.
func (ps *procs) start(bin string, args ...string) (*proc, error) {
	ps.mu.Lock()
	ps.seq++
	name := fmt.Sprintf("%s-%d", filepath.Base(bin), ps.seq)
	ps.mu.Unlock()
	out, err := os.Create(filepath.Join(ps.dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, output: out.Name(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = out.Close()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// closeAll stops every process still running.
func (ps *procs) closeAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range list {
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.stop() }()
	}
	wg.Wait()
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopWait, then kills.
func (p *proc) stop() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopWait):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s; killed", p.name, stopWait)
	}
}

// tail returns the last lines of the process's output, for error messages.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.output)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

// waitSocket waits until path is a unix socket, failing early if p exits.
func waitSocket(ctx context.Context, path string, p *proc) error {
	deadline := time.Now().Add(socketWait)
	for {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s: %w before serving %s:\n%s", p.name, errExited, path, p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: socket %s did not appear within %s", p.name, path, socketWait)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// rssBytes reads VmRSS (resident now) of pid from /proc.
func rssBytes(pid int) (int64, error) { return statusBytes(pid, "VmRSS") }

// statusBytes reads a "<key>: N kB" line (VmRSS, VmHWM) of pid from /proc.
func statusBytes(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	defer f.Close()
	return parseStatusKB(f, key)
}

// parseStatusKB finds "<key>:  1234 kB" in a /proc/<pid>/status stream.
func parseStatusKB(r io.Reader, key string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == key+":" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("rss: %w", err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	return 0, fmt.Errorf("rss: no %s line", key)
}

// cpuTime reads the user+system CPU time of pid from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	return parseStatCPU(string(b))
}

// clockTick is USER_HZ, the unit of utime and stime: 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// parseStatCPU returns utime+stime from a /proc/<pid>/stat line. The
// command name (field 2) may hold spaces, so fields are counted after its
// closing parenthesis.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("cpu time: malformed stat line")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("cpu time: short stat line")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	return time.Duration(ut+st) * clockTick, nil
}
