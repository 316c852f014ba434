package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

// Helpers of the hostile-input suite (hostile_*_test.go). Everything goes
// over the manager's real socket, as raw HTTP where the body itself is the
// attack, and looks at the manager from outside: /proc, the store file and
// its answers. Nothing here knows the controller's internals.

// procStats is what /proc says about a process.
type procStats struct {
	rssKB int // VmRSS
	fds   int // open descriptors
}

func (s procStats) String() string {
	return fmt.Sprintf("RSS %.1f MB, %d fds", float64(s.rssKB)/1024, s.fds)
}

// statsOf reads VmRSS and the number of open descriptors of pid.
func statsOf(t *testing.T, pid int) procStats {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	var s procStats
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			s.rssKB, err = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			require.NoError(t, err)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	s.fds = len(fds)
	return s
}

// noRaceBinary builds ./cmd/<name> without the race detector (whose shadow
// memory would drown the RSS figures) once per test run.
func noRaceBinary(t *testing.T, name string) string {
	t.Helper()
	key := name + "-norace"
	builds.mu.Lock()
	b, ok := builds.once[key]
	if !ok {
		b = &buildOnce{}
		builds.once[key] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		b.path = filepath.Join(builds.dir, key)
		b.err = buildBinary(name, b.path)
	})
	require.NoError(t, b.err, "build %s", key)
	return b.path
}

// startManagerWith starts the node's manager from bin, under a descriptor
// limit when nofile > 0 (hard and soft, set by the shell before exec).
func (n *osNode) startManagerWith(bin string, nofile int, extra ...string) *proc {
	n.c.t.Helper()
	args := n.managerArgs(extra...)
	if nofile > 0 {
		script := fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)
		n.mgr = startProc(n.c.t, "/bin/sh", nil, append([]string{"-c", script, bin}, args...)...)
	} else {
		n.mgr = startProc(n.c.t, bin, nil, args...)
	}
	waitSocket(n.c.t, n.socket(), n.mgr)
	return n.mgr
}

// unixHTTP is an HTTP client for one unix socket, without keep-alive.
func unixHTTP(path string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// rawCall posts body to the socket and returns the answer's body.
func rawCall(t *testing.T, path string, body []byte) []byte {
	t.Helper()
	resp, err := unixHTTP(path, 30*time.Second).Post("http://manager/", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", out)
	return out
}

// commitBody is a Group.CommitGroup request whose Properties are raw bytes,
// exactly as given (the attack may be in them).
func commitBody(id string, props []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"jsonrpc":"2.0","method":"Group.CommitGroup","params":{"Spec":{"ID":%q,"Properties":`, id)
	b.Write(props)
	b.WriteString(`},"Pretend":false},"id":1}`)
	return b.Bytes()
}

// rpcAnswer is a decoded JSON-RPC answer.
type rpcAnswer struct {
	Result json.RawMessage
	Error  *struct {
		Code    int
		Message string
	}
}

func decodeAnswer(t *testing.T, raw []byte) rpcAnswer {
	t.Helper()
	var a rpcAnswer
	require.NoError(t, json.Unmarshal(raw, &a), "answer %.300s", raw)
	return a
}

// strictInspect asks InspectGroups over raw HTTP and checks the answer as a
// strict client would: valid UTF-8, valid JSON, a result. It returns the
// number of groups and the answer's size.
func strictInspect(t *testing.T, path string) (groups, size int) {
	t.Helper()
	raw := rawCall(t, path, []byte(`{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":7}`))
	require.True(t, utf8.Valid(raw), "InspectGroups answered invalid UTF-8")
	var a struct {
		Result struct{ Groups []json.RawMessage }
		Error  json.RawMessage
	}
	require.NoError(t, json.Unmarshal(raw, &a))
	require.Empty(t, a.Error, "InspectGroups failed: %.300s", raw)
	return len(a.Result.Groups), len(raw)
}

// storedIDs decodes the store file (absent: empty) and returns its groups.
func storedIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]bool{}
	}
	require.NoError(t, err)
	cfg, err := sources.DecodeConfig(data)
	require.NoError(t, err)
	out := map[string]bool{}
	for id := range cfg.Groups {
		out[string(id)] = true
	}
	return out
}

// fileSize is the size of path, 0 when absent.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// nestedArray is an array nested depth levels deep.
func nestedArray(depth int) []byte {
	return []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
}
