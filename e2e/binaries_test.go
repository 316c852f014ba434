package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Timeouts of the helpers. They bound waits for things that normally take
// milliseconds; they are not performance assertions.
const (
	buildTimeout = 5 * time.Minute
	cliTimeout   = 30 * time.Second
	stopTimeout  = 15 * time.Second
	socketWait   = 15 * time.Second
)

// builds is the state shared by the tests of one test binary run: the
// directory binaries are built into (removed by TestMain) and one build per
// name.
var builds = struct {
	dir  string
	mu   sync.Mutex
	once map[string]*buildOnce
}{once: map[string]*buildOnce{}}

type buildOnce struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ike2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: create build dir:", err)
		os.Exit(1)
	}
	builds.dir = dir
	// The product binaries run under the race detector too; a process that
	// races writes its report here (GORACE log_path), whether it exits or is
	// killed later, and the run fails with the report.
	if err := os.Mkdir(filepath.Join(dir, "race"), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: create race report dir:", err)
		os.Exit(1)
	}
	code := m.Run()
	if reports, _ := filepath.Glob(filepath.Join(dir, "race", "report.*")); len(reports) > 0 {
		for _, r := range reports {
			data, _ := os.ReadFile(r)
			fmt.Fprintf(os.Stderr, "e2e: DATA RACE in a product process (%s):\n%s\n", filepath.Base(r), data)
		}
		code = 1
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// raceBuilt lists the binaries built with -race: the manager and the
// simulator run long enough, concurrently enough, to be worth it.
var raceBuilt = map[string]bool{"infrakit-manager": true, "infrakit-group-sim": true}

// binary returns the path of ./cmd/<name> built for this test run; the first
// call for a name builds it, later calls (from any test) reuse it.
func binary(t *testing.T, name string) string {
	t.Helper()
	builds.mu.Lock()
	b, ok := builds.once[name]
	if !ok {
		b = &buildOnce{}
		builds.once[name] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		b.path = filepath.Join(builds.dir, name)
		var flags []string
		if raceBuilt[name] {
			flags = append(flags, "-race")
		}
		b.err = buildBinary(name, b.path, flags...)
	})
	require.NoError(t, b.err, "build %s", name)
	return b.path
}

// buildBinary runs `go build [flags] -o out ./cmd/<name>` in the module root.
func buildBinary(name, out string, flags ...string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	args := append([]string{"build"}, flags...)
	args = append(args, "-o", out, "./cmd/"+name)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, output)
	}
	return nil
}

// moduleRoot is the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("e2e: not inside the module")
	}
	return filepath.Dir(gomod), nil
}

// shortTempDir returns a new directory directly under the system temp
// directory, short enough for unix socket paths (107 bytes), removed when
// the test ends.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ike2e")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// proc is a process started by a test. Its output goes to files in a test
// temp dir; it is killed at the end of the test if still running, and its
// stderr is logged if the test failed.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdout string // path of the captured stdout
	stderr string // path of the captured stderr
	done   chan struct{}
	err    error // the Wait result, set before done is closed
}

// startProc starts bin with args; env entries ("K=V") are added to the
// test's environment.
func startProc(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	outDir := t.TempDir()
	name := filepath.Base(bin)
	p := &proc{
		t:      t,
		name:   name,
		cmd:    exec.Command(bin, args...),
		stdout: filepath.Join(outDir, name+".stdout"),
		stderr: filepath.Join(outDir, name+".stderr"),
		done:   make(chan struct{}),
	}
	p.cmd.Env = append(os.Environ(), "GORACE=log_path="+filepath.Join(builds.dir, "race", "report"))
	p.cmd.Env = append(p.cmd.Env, env...)
	stdout, err := os.Create(p.stdout)
	require.NoError(t, err)
	stderr, err := os.Create(p.stderr)
	require.NoError(t, err)
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	// A test binary killed by go test's -timeout runs no cleanup: the
	// kernel kills the process with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() {
		p.err = p.cmd.Wait()
		_ = stdout.Close()
		_ = stderr.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s %s stderr:\n%s", name, strings.Join(args, " "), p.Stderr())
		}
	})
	return p
}

// Pid returns the process id.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// Stdout returns what the process wrote to stdout so far.
func (p *proc) Stdout() string { return readFile(p.t, p.stdout) }

// Stderr returns what the process wrote to stderr so far.
func (p *proc) Stderr() string { return readFile(p.t, p.stderr) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *proc) Signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig), "signal %s to %s", sig, p.name)
}

// Wait waits for the process to exit and returns its exit code (-1 when it
// died of a signal). It fails the test if that takes longer than timeout.
func (p *proc) Wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s (pid %d) did not exit within %s", p.name, p.Pid(), timeout)
	}
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exitErr):
		return exitErr.ExitCode()
	default:
		p.t.Fatalf("wait %s: %v", p.name, p.err)
		return -1
	}
}

// Stop sends SIGTERM and waits for the exit code.
func (p *proc) Stop() int {
	p.t.Helper()
	p.Signal(syscall.SIGTERM)
	return p.Wait(stopTimeout)
}

// Kill sends SIGKILL (nothing is cleaned up by the process) and waits.
func (p *proc) Kill() {
	p.t.Helper()
	p.Signal(syscall.SIGKILL)
	p.Wait(stopTimeout)
}

// waitSocket waits until path is a unix socket. If p is not nil and exits
// first, the test fails at once with its stderr.
func waitSocket(t *testing.T, path string, p *proc) {
	t.Helper()
	require.Eventually(t, func() bool {
		if p != nil && p.exited() {
			return true
		}
		// A socket file is not enough: a stale one from a killed process
		// exists before the new server replaces it. Wait until one accepts.
		conn, err := net.DialTimeout("unix", path, time.Second)
		if err != nil {
			return false
		}
		_ = conn.Close()
		return true
	}, socketWait, 10*time.Millisecond, "nothing accepts on %s", path)
	if p != nil && p.exited() {
		t.Fatalf("%s exited before serving %s:\n%s", p.name, path, p.Stderr())
	}
}

// startSim starts infrakit-group-sim serving as name in pluginDir and waits
// for its socket. extra are more flags (e.g. --fail, --events).
func startSim(t *testing.T, pluginDir, name string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"--plugin-dir", pluginDir, "--name", name}, extra...)
	p := startProc(t, binary(t, "infrakit-group-sim"), nil, args...)
	waitSocket(t, filepath.Join(pluginDir, name), p)
	return p
}

// runCLI runs `infrakit --plugin-dir pluginDir args…` to completion.
func runCLI(t *testing.T, pluginDir string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	return runCLIStdin(t, pluginDir, "", args...)
}

// runCLIStdin is runCLI with stdin.
func runCLIStdin(t *testing.T, pluginDir, stdin string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	all := append([]string{"--plugin-dir", pluginDir}, args...)
	cmd := exec.CommandContext(ctx, binary(t, "infrakit"), all...)
	var out, errOut bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		exit = exitErr.ExitCode()
	default:
		t.Fatalf("infrakit %s: %v (stderr: %s)", strings.Join(all, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), exit
}
