package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeGroup behaves like the captured group-default backend: it keeps the
// committed specs in memory, answers the original error texts, and can be
// told to fail, to answer canned data, or to run a hook (block, panic).
type fakeGroup struct {
	mu        sync.Mutex
	groups    map[ID]Spec
	inspect   []Spec // when set, InspectGroups answers this (the backend's re-serialised form)
	instances map[ID][]InstanceDescription
	details   string           // when set, CommitGroup answers this (the manager's fixed text)
	fail      map[string]error // method name -> error to return
	hook      func(ctx context.Context, method string)
	calls     []string
}

var _ Group = (*fakeGroup)(nil)

func newFakeGroup() *fakeGroup {
	return &fakeGroup{groups: map[ID]Spec{}, instances: map[ID][]InstanceDescription{}, fail: map[string]error{}}
}

// enter records the call, runs the hook and returns the injected failure.
func (f *fakeGroup) enter(ctx context.Context, method string) error {
	f.mu.Lock()
	f.calls = append(f.calls, method)
	hook, err := f.hook, f.fail[method]
	f.mu.Unlock()
	if hook != nil {
		hook(ctx, method)
	}
	return err
}

func (f *fakeGroup) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func notWatched(id ID) error { return fmt.Errorf("Group '%s' is not being watched", id) }

func (f *fakeGroup) CommitGroup(ctx context.Context, spec Spec, pretend bool) (string, error) {
	if err := f.enter(ctx, "CommitGroup"); err != nil {
		return "", err
	}
	if spec.ID == "" {
		return "", errors.New("Group ID must not be blank")
	}
	var props struct{ Allocation struct{ Size int } }
	_ = json.Unmarshal(spec.Properties, &props)
	f.mu.Lock()
	defer f.mu.Unlock()
	old, exists := f.groups[spec.ID]
	details := fmt.Sprintf("Managing %d instances", props.Allocation.Size)
	if exists {
		details = "Noop"
		if !bytes.Equal(compact(old.Properties), compact(spec.Properties)) {
			details = fmt.Sprintf("Performing a rolling update on %d instances", props.Allocation.Size)
		}
	}
	if !pretend {
		f.groups[spec.ID] = spec
	}
	if f.details != "" {
		return f.details, nil
	}
	return details, nil
}

func (f *fakeGroup) FreeGroup(ctx context.Context, id ID) error {
	if err := f.enter(ctx, "FreeGroup"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[id]; !ok {
		return notWatched(id)
	}
	delete(f.groups, id)
	return nil
}

func (f *fakeGroup) DescribeGroup(ctx context.Context, id ID) (Description, error) {
	if err := f.enter(ctx, "DescribeGroup"); err != nil {
		return Description{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[id]; !ok {
		return Description{}, notWatched(id)
	}
	return Description{Instances: f.instances[id], Converged: true}, nil
}

func (f *fakeGroup) DestroyGroup(ctx context.Context, id ID) error {
	if err := f.enter(ctx, "DestroyGroup"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[id]; !ok {
		return notWatched(id)
	}
	delete(f.groups, id)
	return nil
}

func (f *fakeGroup) InspectGroups(ctx context.Context) ([]Spec, error) {
	if err := f.enter(ctx, "InspectGroups"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inspect != nil {
		return f.inspect, nil
	}
	var out []Spec
	for _, s := range f.groups {
		out = append(out, s)
	}
	return out, nil
}

func compact(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// sockDir returns a short directory for sockets (paths are limited to 107 bytes).
func sockDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ik")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// serveFake serves g on a fresh socket and stops the server at cleanup.
// serverOpts returns the default ServerOptions changed by change.
func serverOpts(change func(o *ServerOptions)) ServerOptions {
	o := DefaultServerOptions()
	change(&o)
	return o
}

func serveFake(t *testing.T, g Group, opts ServerOptions) *Server {
	t.Helper()
	s, err := Serve(filepath.Join(sockDir(t), "group"), g, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Stop(stopCtx(t))) })
	return s
}

// rawExchange sends raw request bytes on a new connection and reads one response.
func rawExchange(t *testing.T, path string, raw []byte) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = conn.Write(raw)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	require.NoError(t, err)
	return resp, body.Bytes()
}

// rawPost builds a POST request with the given headers (Content-Length added).
func rawPost(body string, headers ...string) []byte {
	var b bytes.Buffer
	b.WriteString("POST / HTTP/1.1\r\nHost: a\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.Bytes()
}
