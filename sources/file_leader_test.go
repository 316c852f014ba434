package sources_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

const (
	leaderName = "group"
	// longPoll is far longer than any test: a change seen with it came
	// from a file system event, not from the poll.
	longPoll = time.Hour
)

func newFileLeadership(t *testing.T, opts sources.FileLeadershipOptions) *sources.FileLeadership {
	t.Helper()
	if opts.Name == "" {
		opts.Name = leaderName
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = longPoll
	}
	if opts.Log.GetSink() == nil {
		opts.Log = testr.New(t)
	}
	l, err := sources.NewFileLeadership(opts)
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
	sourcestest.RunLeadershipContract(t, func(t *testing.T) (sources.Leadership, func(bool)) {
		path := filepath.Join(t.TempDir(), "leader")
		l := newFileLeadership(t, sources.FileLeadershipOptions{Path: path})
		return l, func(leader bool) {
			content := "group2\n"
			if leader {
				content = leaderName + "\n"
			}
			replaceFile(t, path, content)
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
			require.Equal(t, c.leader, sources.ParseLeaderFile([]byte(c.content), c.name))
		})
	}
}

func TestNewFileLeadership_Validates(t *testing.T) {
	cases := []struct {
		name string
		opts sources.FileLeadershipOptions
		err  string
	}{
		{name: "no path", opts: sources.FileLeadershipOptions{Name: "g"}, err: "Path must not be empty"},
		{name: "no name", opts: sources.FileLeadershipOptions{Path: "leader"}, err: "Name must not be empty"},
		{name: "negative poll", opts: sources.FileLeadershipOptions{Path: "leader", Name: "g", PollInterval: -time.Second}, err: "PollInterval must be positive"},
		{name: "defaults", opts: sources.FileLeadershipOptions{Path: "leader", Name: "g"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sources.NewFileLeadership(c.opts)
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
		err    string
	}{
		{name: "own name", setup: func(t *testing.T, p string) { replaceFile(t, p, "group") }, leader: true},
		{name: "CRLF", setup: func(t *testing.T, p string) { replaceFile(t, p, "group\r\n") }, leader: true},
		{name: "other name", setup: func(t *testing.T, p string) { replaceFile(t, p, "group2\n") }},
		{name: "empty", setup: func(t *testing.T, p string) { replaceFile(t, p, "") }},
		{name: "missing", setup: func(*testing.T, string) {}, err: "no such file or directory"},
		{name: "directory", setup: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }, err: "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "leader")
			c.setup(t, path)
			l := newFileLeadership(t, sources.FileLeadershipOptions{Path: path})
			leader, err := l.Check(t.Context())
			require.Equal(t, c.leader, leader)
			if c.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, path)
			require.ErrorContains(t, err, c.err)
		})
	}
}

func TestFileLeadership_WatchFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leader")
	replaceFile(t, path, "group2\n")
	w := sourcestest.StartWatch(t, newFileLeadership(t, sources.FileLeadershipOptions{Path: path}))
	require.False(t, w.Next(t))

	replaceFile(t, path, "group\r\n") // replaced by rename, CRLF
	require.True(t, w.Next(t))

	require.NoError(t, os.Remove(path)) // deleted: not leader
	require.False(t, w.Next(t))

	require.NoError(t, os.WriteFile(path, []byte("group"), 0o644)) // created in place
	require.True(t, w.Next(t))

	require.NoError(t, os.WriteFile(path, []byte("group2"), 0o644)) // rewritten in place
	require.False(t, w.Next(t))

	require.NoError(t, os.WriteFile(path, []byte("group\n"), 0o644))
	require.True(t, w.Next(t))

	require.NoError(t, os.Remove(path)) // made a directory: not leader
	require.NoError(t, os.Mkdir(path, 0o700))
	require.False(t, w.Next(t))

	w.Stop(t)
	require.Equal(t, []bool{false, true, false, true, false, true, false}, w.All())
}

// stepPoll fires the poll timer once and waits until Watch has handled it
// (the timer is re-armed after each poll).
func stepPoll(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	require.Eventually(t, clk.HasWaiters, 5*time.Second, time.Millisecond, "poll timer not armed")
	clk.Step(2 * longPoll)
	require.Eventually(t, clk.HasWaiters, 5*time.Second, time.Millisecond, "poll not handled")
}

func TestFileLeadership_PollsWhenTheDirectoryIsMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	path := filepath.Join(dir, "leader")
	clk := clocktesting.NewFakeClock(time.Now())
	w := sourcestest.StartWatch(t, newFileLeadership(t, sources.FileLeadershipOptions{Path: path, Clock: clk}))
	require.False(t, w.Next(t))

	// No directory, so no watch: only the poll can see this.
	require.NoError(t, os.Mkdir(dir, 0o700))
	replaceFile(t, path, "group\n")
	stepPoll(t, clk)
	require.True(t, w.Next(t))

	// That poll added the directory watch: events work again.
	replaceFile(t, path, "group2\n")
	require.False(t, w.Next(t))

	// The directory goes away and comes back: the poll re-adds the watch.
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Mkdir(dir, 0o700))
	replaceFile(t, path, "group\n")
	stepPoll(t, clk)
	require.True(t, w.Next(t))
	replaceFile(t, path, "group2\n")
	require.False(t, w.Next(t))
}

func TestFileLeadership_PollsWhenNoEventsArrive(t *testing.T) {
	// The leader path is a symlink into another directory: writes to the
	// target make no event in the watched directory, as on NFS.
	target := filepath.Join(t.TempDir(), "real-leader")
	require.NoError(t, os.WriteFile(target, []byte("group2"), 0o644))
	path := filepath.Join(t.TempDir(), "leader")
	require.NoError(t, os.Symlink(target, path))

	clk := clocktesting.NewFakeClock(time.Now())
	w := sourcestest.StartWatch(t, newFileLeadership(t, sources.FileLeadershipOptions{Path: path, Clock: clk}))
	require.False(t, w.Next(t))

	require.NoError(t, os.WriteFile(target, []byte("group"), 0o644))
	stepPoll(t, clk)
	require.True(t, w.Next(t))
	stepPoll(t, clk) // unchanged: nothing reported
	require.NoError(t, os.WriteFile(target, []byte("group2"), 0o644))
	stepPoll(t, clk)
	require.False(t, w.Next(t))
	w.Stop(t)
	require.Equal(t, []bool{false, true, false}, w.All())
}

func TestFileLeadership_LogsEachReadErrorOnce(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{})
	count := func(msg string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, l := range lines {
			if strings.Contains(l, msg) {
				n++
			}
		}
		return n
	}

	path := filepath.Join(t.TempDir(), "leader")
	clk := clocktesting.NewFakeClock(time.Now())
	w := sourcestest.StartWatch(t, newFileLeadership(t, sources.FileLeadershipOptions{Path: path, Clock: clk, Log: log}))
	require.False(t, w.Next(t))
	for range 3 {
		stepPoll(t, clk)
	}
	require.Equal(t, 1, count("cannot read leader file"))
	require.Equal(t, 1, count(path+": no such file or directory"))

	require.NoError(t, os.Mkdir(path, 0o700)) // a different error is logged
	stepPoll(t, clk)
	stepPoll(t, clk)
	require.Equal(t, 2, count("cannot read leader file"))
	require.Equal(t, 1, count("is a directory"))

	require.NoError(t, os.Remove(path))
	replaceFile(t, path, "group")
	require.True(t, w.Next(t))
	require.Equal(t, 1, count("leader file readable again"))
}

func TestFileLeadership_WatchExitsWithAllGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leader")
	replaceFile(t, path, "group")
	l := newFileLeadership(t, sources.FileLeadershipOptions{Path: path, Log: logr.Discard()})
	baseline := runtime.NumGoroutine()

	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan bool, 10)
		done := make(chan error, 1)
		go func() { done <- l.Watch(ctx, func(leader bool) { got <- leader }) }()
		require.True(t, <-got)
		cancel()
		require.NoError(t, <-done)
	}
	// Eventually runs the condition on a goroutine of its own: count it.
	if !assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline+1 }, 5*time.Second, 5*time.Millisecond) {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines left after Watch returned: %d > %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
	}
}
