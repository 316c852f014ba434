package file_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/sources/file"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

const (
	leaderName = "group"
	// longPoll is far longer than any test: a change seen with it came
	// from a file system event, not from the poll.
	longPoll = time.Hour
)

func leadershipOptions(path, name string) file.LeadershipOptions {
	o := file.DefaultLeadershipOptions()
	o.Path, o.Name = path, name
	return o
}

// newFileLeadership fills in opts' zero Name, PollInterval, Clock and Log
// with the test's choices and validates the result.
func newFileLeadership(t *testing.T, opts file.LeadershipOptions) *file.Leadership {
	t.Helper()
	if opts.Name == "" {
		opts.Name = leaderName
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = longPoll
	}
	if opts.Clock == nil {
		opts.Clock = file.DefaultLeadershipOptions().Clock
	}
	if opts.Log.GetSink() == nil {
		opts.Log = testr.New(t)
	}
	l, err := file.NewLeadership(opts)
	require.NoError(t, err)
	return l
}

// replaceFile writes content to a temp file beside path and renames it over
// path, as mv and most editors do.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

func TestFileLeadership_Contract(t *testing.T) {
	sourcestest.RunLeadershipContract(t, func(t *testing.T) sourcestest.LeadershipFixture {
		path := filepath.Join(t.TempDir(), "leader")
		l := newFileLeadership(t, file.LeadershipOptions{Path: path})
		return sourcestest.LeadershipFixture{
			L: l,
			Set: func(leader bool) {
				content := "group2\n"
				if leader {
					content = leaderName + "\n"
				}
				replaceFile(t, path, content)
			},
			SetUnknown: func() { require.NoError(t, os.Remove(path)) },
		}
	})
}

func TestParseLeaderFile(t *testing.T) {
	cases := []struct {
		content string
		name    string
		leader  bool
	}{
		{"group", "group", true},
		{"group\n", "group", true},
		{"group\r\n", "group", true},
		{"group\r", "group", true},
		{" \t\r\ngroup \t\r\n\n", "group", true},
		{"group2", "group", false},
		{"group", "group2", false},
		{"Group", "group", false},
		{"gr oup", "gr oup", true},
		{"group\nother", "group", false},
		{"group\v", "group", false},
		{"\ufeffgroup", "group", false},
		{"", "group", false},
		{"\n", "group", false},
		{"", "", false},
		{"  ", "", false},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.content+"|"+c.name, "\n", `\n`), func(t *testing.T) {
			require.Equal(t, c.leader, file.ParseLeaderFile([]byte(c.content), c.name))
		})
	}
}

func TestNewFileLeadership_Validates(t *testing.T) {
	cases := []struct {
		name string
		opts file.LeadershipOptions
		err  string
	}{
		{name: "no path", opts: leadershipOptions("", "g"), err: "Path must not be empty"},
		{name: "no name", opts: leadershipOptions("leader", ""), err: "Name must not be empty"},
		{name: "negative poll", opts: func() file.LeadershipOptions {
			o := leadershipOptions("leader", "g")
			o.PollInterval = -time.Second
			return o
		}(), err: "PollInterval must be > 0"},
		{name: "zero options", opts: file.LeadershipOptions{Path: "leader", Name: "g"}, err: "PollInterval must be > 0, got 0s\nClock must not be nil"},
		{name: "defaults", opts: leadershipOptions("leader", "g")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := file.NewLeadership(c.opts)
			if c.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, c.err)
		})
	}
}

func TestFileLeadership_Check(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, path string)
		leader bool
		holder string
		err    string
	}{
		{name: "own name", setup: func(t *testing.T, p string) { replaceFile(t, p, "group") }, leader: true, holder: "group"},
		{name: "CRLF", setup: func(t *testing.T, p string) { replaceFile(t, p, "group\r\n") }, leader: true, holder: "group"},
		{name: "other name", setup: func(t *testing.T, p string) { replaceFile(t, p, "group2\n") }, holder: "group2"},
		{name: "empty is unknown", setup: func(t *testing.T, p string) { replaceFile(t, p, " \n") }, err: "is empty"},
		{name: "missing is unknown", setup: func(*testing.T, string) {}, err: "no such file or directory"},
		{name: "directory", setup: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }, err: "is a directory"},
		{name: "FIFO never blocks", setup: func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o600)) }, err: "is a FIFO, not a regular file"},
		{name: "symlink to a FIFO", setup: func(t *testing.T, p string) {
			fifo := p + ".fifo"
			require.NoError(t, syscall.Mkfifo(fifo, 0o600))
			require.NoError(t, os.Symlink(fifo, p))
		}, err: "not a regular file"},
		{name: "too large", setup: func(t *testing.T, p string) { replaceFile(t, p, strings.Repeat("x", 65<<10)) }, err: "more than the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "leader")
			c.setup(t, path)
			l := newFileLeadership(t, file.LeadershipOptions{Path: path})
			st, err := l.Check(t.Context())
			if c.err == "" {
				require.NoError(t, err)
				require.Equal(t, c.leader, st.Leader)
				require.Equal(t, c.holder, st.Holder)
				return
			}
			require.ErrorContains(t, err, path)
			require.ErrorContains(t, err, c.err)
			require.ErrorContains(t, err, "--leader-file")
		})
	}
}

// leaderNow checks the file once and fails the test on an error.
func leaderNow(t *testing.T, l *file.Leadership) bool {
	t.Helper()
	st, err := l.Check(t.Context())
	require.NoError(t, err)
	return st.Leader
}

func TestFileLeadership_WatchPokesOnEveryKindOfWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leader")
	replaceFile(t, path, "group2\n")
	l := newFileLeadership(t, file.LeadershipOptions{Path: path})
	p := sourcestest.StartPokes(t, l)
	p.Next(t)

	steps := []struct {
		name   string
		do     func()
		leader bool
	}{
		{"replaced by rename, CRLF", func() { replaceFile(t, path, "group\r\n") }, true},
		{"rewritten in place", func() { require.NoError(t, os.WriteFile(path, []byte("group2"), 0o644)) }, false},
		{"removed and created", func() {
			require.NoError(t, os.Remove(path))
			require.NoError(t, os.WriteFile(path, []byte("group"), 0o644))
		}, true},
	}
	for _, s := range steps {
		p.Drain()
		s.do()
		p.Next(t)
		require.Equal(t, s.leader, leaderNow(t, l), s.name)
	}
	p.Stop(t)
	require.Zero(t, p.Overlaps())
}

// stepPoll fires the poll timer once and waits until Watch has re-armed it.
func stepPoll(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	require.Eventually(t, clk.HasWaiters, 5*time.Second, time.Millisecond, "poll timer not armed")
	clk.Step(2 * longPoll)
	require.Eventually(t, clk.HasWaiters, 5*time.Second, time.Millisecond, "poll not handled")
}

func TestFileLeadership_PollRewatchesAMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	path := filepath.Join(dir, "leader")
	clk := clocktesting.NewFakeClock(time.Now())
	l := newFileLeadership(t, file.LeadershipOptions{Path: path, Clock: clk})
	p := sourcestest.StartPokes(t, l)
	p.Next(t)

	// No directory, so no watch: only the poll pokes.
	require.NoError(t, os.Mkdir(dir, 0o700))
	replaceFile(t, path, "group\n")
	p.Drain()
	stepPoll(t, clk)
	p.Next(t)
	require.True(t, leaderNow(t, l))

	// That poll added the directory watch: events poke again.
	p.Drain()
	replaceFile(t, path, "group2\n")
	p.Next(t)
	require.False(t, leaderNow(t, l))
}

func TestFileLeadership_WatchExitsWithAllGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leader")
	replaceFile(t, path, "group")
	l := newFileLeadership(t, file.LeadershipOptions{Path: path, Log: logr.Discard()})
	baseline := runtime.NumGoroutine()

	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan struct{}, 10)
		done := make(chan error, 1)
		go func() { done <- l.Watch(ctx, func() { got <- struct{}{} }) }()
		<-got
		cancel()
		require.NoError(t, <-done)
	}
	// Eventually runs the condition on a goroutine of its own: count it.
	if !assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline+1 }, 5*time.Second, 5*time.Millisecond) {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines left after Watch returned: %d > %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
	}
}
