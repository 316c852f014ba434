package etcdtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/infrakit-manager/manager/internal/labscript"
)

// ScriptEnv names the variable that overrides where hack/etcd-lab.sh is.
const ScriptEnv = "INFRAKIT_ETCD_LAB"

const (
	upTimeout   = 60 * time.Second
	stepTimeout = 30 * time.Second
)

// Lab is one running etcd cluster of members n1..nN.
type Lab struct {
	scriptPath string
	dir        string
	n          int

	down labscript.Downer
}

// RequireEtcd skips t, or fails it when CI=true, unless a lab can run here.
func RequireEtcd(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("etcd lab unavailable under CI=true: %v", err)
		}
		t.Skipf("etcd lab unavailable: %v", err)
	}
}

// Available returns why a lab cannot run here, or nil: it needs etcd,
// etcdctl and the lab script.
func Available() error {
	for _, tool := range []string{"etcd", "etcdctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (hack/etcd-lab.sh install): %w", tool, err)
		}
	}
	_, err := Script()
	return err
}

// Script finds hack/etcd-lab.sh: $INFRAKIT_ETCD_LAB, or the first
// hack/etcd-lab.sh in the working directory or one of its parents.
func Script() (string, error) { return labscript.Find("etcd-lab.sh", ScriptEnv) }

// StartLab starts a lab of n members for t and stops it in t's cleanup. It
// calls RequireEtcd first.
func StartLab(t testing.TB, n int) *Lab {
	t.Helper()
	RequireEtcd(t)
	return labscript.Start(t, "etcd lab", func() (*Lab, bool, error) {
		l, err := NewLab(context.Background(), n)
		return l, l != nil, err
	})
}

// NewLab starts a lab of n members. The caller must Close it, also when
// NewLab returns an error with a non-nil Lab.
func NewLab(ctx context.Context, n int) (*Lab, error) {
	if n < 1 {
		return nil, fmt.Errorf("etcd lab: need at least one member, got %d", n)
	}
	script, err := Script()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "iketcd")
	if err != nil {
		return nil, err
	}
	l := &Lab{scriptPath: script, dir: dir, n: n}
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

// Close stops every member and removes the lab directory. Idempotent.
func (l *Lab) Close() error { return l.down.Down(l.script(), stepTimeout) }

// N returns the number of members.
func (l *Lab) N() int { return l.n }

// Dir returns the lab directory (member logs in n<i>/etcd.log).
func (l *Lab) Dir() string { return l.dir }

// Endpoints returns every member's client URL.
func (l *Lab) Endpoints(t testing.TB) []string {
	t.Helper()
	return strings.Split(strings.TrimSpace(l.must(t, "endpoints")), ",")
}

// Endpoint returns member i's client URL.
func (l *Lab) Endpoint(t testing.TB, i int) string {
	t.Helper()
	return strings.TrimSpace(l.must(t, "endpoint", strconv.Itoa(i)))
}

// Leader returns the index of the member that is the Raft leader.
func (l *Lab) Leader(t testing.TB) int {
	t.Helper()
	out := strings.TrimSpace(l.must(t, "leader"))
	i, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("etcd lab leader: unexpected output %q", out)
	}
	return i
}

// Kill SIGKILLs member i and waits for it to exit.
func (l *Lab) Kill(t testing.TB, i int) { t.Helper(); l.must(t, "kill", strconv.Itoa(i)) }

// Pause SIGSTOPs member i.
func (l *Lab) Pause(t testing.TB, i int) { t.Helper(); l.must(t, "pause", strconv.Itoa(i)) }

// Resume SIGCONTs member i.
func (l *Lab) Resume(t testing.TB, i int) { t.Helper(); l.must(t, "resume", strconv.Itoa(i)) }

// Start restarts member i with its data and waits until every running
// member is healthy.
func (l *Lab) Start(t testing.TB, i int) {
	t.Helper()
	l.must(t, "start", strconv.Itoa(i))
	l.must(t, "wait", "30")
}

// Wipe replaces member i by an empty one (member remove, kill, delete its
// data, member add, start) and waits until every member is healthy.
func (l *Lab) Wipe(t testing.TB, i int) { t.Helper(); l.must(t, "wipe", strconv.Itoa(i)) }

// Status returns the members' status table (for failure logs).
func (l *Lab) Status() string { return l.script().Status(stepTimeout) }

func (l *Lab) must(t testing.TB, args ...string) string {
	t.Helper()
	return l.script().Must(t, stepTimeout, args...)
}

func (l *Lab) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	return l.script().Run(ctx, timeout, args...)
}

func (l *Lab) script() labscript.Script {
	return labscript.Script{Path: l.scriptPath, Env: []string{"LAB=" + l.dir}}
}

// CallTimeout bounds every call a test makes to the lab: generous for a
// loaded machine, well under go test's per-package -timeout.
const CallTimeout = 2 * time.Minute

// Context is the context for a test's calls to the lab: it ends after
// CallTimeout or with t.
func Context(t testing.TB) context.Context { return labscript.Context(t, CallTimeout) }
