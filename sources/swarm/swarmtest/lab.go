package swarmtest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infrakit-manager/manager/internal/labscript"
)

// ScriptEnv names the variable that overrides where hack/swarm-lab.sh is.
const ScriptEnv = "INFRAKIT_SWARM_LAB"

const (
	upTimeout   = 3 * time.Minute  // start N daemons and form the swarm
	stepTimeout = 90 * time.Second // any other lab command (wait uses 60 s)
)

// Lab is one running throw-away swarm of managers n1..nN.
type Lab struct {
	scriptPath string
	dir        string // LAB
	netns      string // NETNS
	n          int

	down labscript.Downer
}

// RequireEngine skips t, or fails it when CI=true, unless a lab can run
// here (see Available).
func RequireEngine(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("swarm lab unavailable under CI=true: %v", err)
		}
		t.Skipf("swarm lab unavailable: %v", err)
	}
}

// Available returns why a lab cannot run here, or nil: it needs root,
// dockerd, nsenter, ip and the lab script.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root")
	}
	for _, tool := range []string{"dockerd", "nsenter", "ip", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (hack/swarm-lab.sh install): %w", tool, err)
		}
	}
	_, err := Script()
	return err
}

// Script finds hack/swarm-lab.sh: $INFRAKIT_SWARM_LAB, or the first
// hack/swarm-lab.sh in the working directory or one of its parents.
func Script() (string, error) { return labscript.Find("swarm-lab.sh", ScriptEnv) }

// StartLab starts a lab of n managers for t and tears it down in t's
// cleanup, whatever the outcome. It calls RequireEngine first.
func StartLab(t *testing.T, n int) *Lab {
	t.Helper()
	RequireEngine(t)
	return labscript.Start(t, "swarm lab", func() (*Lab, bool, error) {
		l, err := NewLab(context.Background(), n)
		return l, l != nil, err
	})
}

// NewLab starts a lab of n managers. The caller must Close it, also when
// NewLab returns an error with a non-nil Lab (a half-started lab). Use it
// for a lab shared by a whole test binary (TestMain); tests use StartLab.
func NewLab(ctx context.Context, n int) (*Lab, error) {
	if n < 1 {
		return nil, fmt.Errorf("swarm lab: need at least one node, got %d", n)
	}
	script, err := Script()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "iksl")
	if err != nil {
		return nil, err
	}
	l := &Lab{
		scriptPath: script,
		dir:        dir,
		netns:      "ik-" + strings.TrimPrefix(filepath.Base(dir), "iksl"),
		n:          n,
	}
	// A test binary killed by go test's -timeout runs no cleanup: the
	// lab goes down when this process is gone.
	if err := l.script().ReapAfter(os.Getpid()); err != nil {
		return l, err
	}
	if _, err := l.run(ctx, upTimeout, "up", strconv.Itoa(n)); err != nil {
		return l, err
	}
	return l, nil
}

// Close stops every daemon, removes the netns and the lab directory. It is
// idempotent.
func (l *Lab) Close() error { return l.down.Down(l.script(), stepTimeout) }

// Dir returns the lab's state directory (daemon logs are in n<i>/dockerd.log).
func (l *Lab) Dir() string { return l.dir }

// N returns the number of nodes.
func (l *Lab) N() int { return l.n }

// Host returns the DOCKER_HOST URL of node i (1-based).
func (l *Lab) Host(i int) string {
	return "unix://" + filepath.Join(l.dir, "n"+strconv.Itoa(i), "docker.sock")
}

// Leader returns the index of the node that reports itself leader.
func (l *Lab) Leader(t testing.TB) int {
	t.Helper()
	out := l.must(t, "leader")
	i, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("swarm lab leader: unexpected output %q", out)
	}
	return i
}

// Demote makes node i a worker (run from another manager).
func (l *Lab) Demote(t testing.TB, i int) {
	t.Helper()
	l.must(t, "demote", strconv.Itoa(i))
}

// Promote makes node i a manager again and waits until all N nodes are
// healthy managers. It first waits for node i's worker certificate: a node
// promoted before its demotion has handed it one waits for it twice 16 s and
// restarts its manager (swarmkit's "failed to get worker role after manager
// stop"), so the promotion takes about 35 s instead of 2-3 s; and changing
// the swarm again before the promoted node is a manager can leave nodes in
// state "error" (20.10).
func (l *Lab) Promote(t testing.TB, i int) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		role, err := l.certRole(i)
		if err == nil && role == "swarm-worker" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("swarm lab: node %d holds no worker certificate after %s (role %q, %v)", i, stepTimeout, role, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.must(t, "promote", strconv.Itoa(i))
	l.WaitAll(t)
}

// certRole is the role in node i's swarm TLS certificate (its subject's OU).
func (l *Lab) certRole(i int) (string, error) {
	path := filepath.Join(l.dir, "n"+strconv.Itoa(i), "data", "swarm", "certificates", "swarm-node.crt")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return "", fmt.Errorf("no PEM block in %s", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", path, err)
	}
	return strings.Join(cert.Subject.OrganizationalUnit, ","), nil
}

// Wait waits (up to 60 s) until every node the swarm lists as a manager
// answers and is Ready and Leader or Reachable, with one leader. Start
// stopped managers first. After a demotion, this is the swarm's new shape.
func (l *Lab) Wait(t testing.TB) {
	t.Helper()
	l.must(t, "wait", "auto", "60")
}

// WaitAll waits (up to 60 s) until all N nodes are managers, each engine
// counting N healthy managers with one leader: the lab's starting shape.
func (l *Lab) WaitAll(t testing.TB) {
	t.Helper()
	l.must(t, "wait", strconv.Itoa(l.n), "60")
}

// Stop stops node i's dockerd with sig ("TERM", "KILL", ...; "" = TERM)
// and waits until it has exited.
func (l *Lab) Stop(t testing.TB, i int, sig string) {
	t.Helper()
	if sig == "" {
		sig = "TERM"
	}
	l.must(t, "stop", strconv.Itoa(i), sig)
}

// Start (re)starts node i's dockerd; it rejoins the swarm by itself.
func (l *Lab) Start(t testing.TB, i int) {
	t.Helper()
	l.must(t, "start", strconv.Itoa(i))
}

// Signal sends sig ("STOP", "CONT", ...) to node i's dockerd, without waiting.
func (l *Lab) Signal(t testing.TB, i int, sig string) {
	t.Helper()
	l.must(t, "signal", strconv.Itoa(i), sig)
}

// Status returns the lab's status report (never fails; errors are in it).
func (l *Lab) Status() string { return l.script().Status(stepTimeout) }

func (l *Lab) must(t testing.TB, args ...string) string {
	t.Helper()
	return l.script().Must(t, stepTimeout, args...)
}

// run runs the lab script with this lab's LAB and NETNS.
func (l *Lab) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	return l.script().Run(ctx, timeout, args...)
}

func (l *Lab) script() labscript.Script {
	return labscript.Script{Path: l.scriptPath, Env: []string{"LAB=" + l.dir, "NETNS=" + l.netns}}
}

// CallTimeout bounds every call a test makes to the lab: generous for a
// loaded machine, well under go test's per-package -timeout.
const CallTimeout = 2 * time.Minute

// Context is the context for a test's calls to the lab: it ends after
// CallTimeout or with t.
func Context(t testing.TB) context.Context { return labscript.Context(t, CallTimeout) }
