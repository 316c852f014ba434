package plugin

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeManager is a Group (fakeGroup) that is also a Manager.
type fakeManager struct {
	*fakeGroup
	mu       sync.Mutex
	leader   bool
	location *url.URL
	status   ManagerStatus
	err      error
}

var _ Manager = (*fakeManager)(nil)

func (m *fakeManager) IsLeader(context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leader, m.err
}

func (m *fakeManager) LeaderLocation(context.Context) (*url.URL, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.location, m.err
}

func (m *fakeManager) Status(context.Context) (ManagerStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status, m.err
}

func TestManagerWire(t *testing.T) {
	const ct = "Content-Type: application/json"
	m := &fakeManager{fakeGroup: newFakeGroup(), leader: true}
	s := serveFake(t, m, DefaultServerOptions())
	cases := []struct {
		name, body, want string
		setup            func()
	}{
		{name: "implements lists Group then Manager",
			body: `{"jsonrpc":"2.0","method":"Plugin.Implements","params":{},"id":1}`,
			want: `{"jsonrpc":"2.0","result":{"APIs":[{"Name":"Group","Version":"0.1.0"},{"Name":"Manager","Version":"0.1.0"}]},"id":1}`},
		{name: "is leader",
			body: `{"jsonrpc":"2.0","method":"Manager.IsLeader","params":{},"id":1}`,
			want: `{"jsonrpc":"2.0","result":{"Leader":true},"id":1}`},
		{name: "leader location unknown",
			body: `{"jsonrpc":"2.0","method":"Manager.LeaderLocation","params":{},"id":2}`,
			want: `{"jsonrpc":"2.0","result":{"Location":null},"id":2}`},
		{name: "leader location known, url.URL as the later InfraKit encoded it",
			setup: func() { m.location = &url.URL{Scheme: "unix", Path: "/run/infrakit/plugins/group"} },
			body:  `{"jsonrpc":"2.0","method":"Manager.LeaderLocation","params":{},"id":3}`,
			want:  `{"jsonrpc":"2.0","result":{"Location":{"Scheme":"unix","Opaque":"","User":null,"Host":"","Path":"/run/infrakit/plugins/group","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""}},"id":3}`},
		{name: "manager error",
			setup: func() { m.err = errors.New("leadership unknown: engine timeout") },
			body:  `{"jsonrpc":"2.0","method":"Manager.IsLeader","params":{},"id":4}`,
			want:  `{"jsonrpc":"2.0","error":{"code":-32000,"message":"leadership unknown: engine timeout","data":null},"id":4}`},
		{name: "unknown manager method",
			body: `{"jsonrpc":"2.0","method":"Manager.Enforce","params":{},"id":5}`,
			want: `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: can't find method \"Manager.Enforce\"","data":null},"id":5}`},
		{name: "group calls unchanged",
			setup: func() { m.err = nil },
			body:  `{"jsonrpc":"2.0","method":"Group.InspectGroups","params":{},"id":6}`,
			want:  `{"jsonrpc":"2.0","result":{"Groups":null},"id":6}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				m.mu.Lock()
				c.setup()
				m.mu.Unlock()
			}
			_, body := rawExchange(t, s.Path(), rawPost(c.body, ct))
			// url.URL's member order follows the Go release; compare as JSON.
			require.JSONEq(t, c.want, string(body))
		})
	}
}

func TestManagerNotServedForPlainGroup(t *testing.T) {
	s := serveFake(t, newFakeGroup(), DefaultServerOptions())
	_, body := rawExchange(t, s.Path(), rawPost(`{"jsonrpc":"2.0","method":"Manager.IsLeader","params":{},"id":1}`))
	require.Equal(t, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"rpc: can't find service \"Manager.IsLeader\"","data":null},"id":1}`+"\n", string(body))

	c := NewClient(s.Path(), ClientOptions{})
	t.Cleanup(c.Close)
	_, err := c.IsLeader(context.Background())
	require.ErrorIs(t, err, ErrNotManager)
	_, err = c.Status(context.Background())
	require.ErrorIs(t, err, ErrNotManager)
	_, err = c.LeaderLocation(context.Background())
	require.ErrorIs(t, err, ErrNotManager)
}

func TestManagerClientRoundTrip(t *testing.T) {
	when := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	want := ManagerStatus{
		Name: "group", Mode: "os", Role: RoleFollower, Lease: "none", Term: 7,
		Leader:     &url.URL{Scheme: "unix", Path: "/p/group"},
		Store:      StoreStatus{Location: "/s/global.config", Version: "v9"},
		GroupCount: 2,
		Groups: []GroupStatus{
			{ID: "a", LastAction: "commit", LastResult: "ok", LastTime: when, Reason: "not running downstream"},
			{ID: "b", LastAction: "none"},
		},
		Healthy:  false,
		Problems: []string{"store: stored config cannot be decoded"},
		Time:     when,
	}
	m := &fakeManager{fakeGroup: newFakeGroup(), status: want, location: want.Leader}
	s := serveFake(t, m, DefaultServerOptions())
	c := NewClient(s.Path(), ClientOptions{})
	t.Cleanup(c.Close)
	ctx := context.Background()

	got, err := c.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got)
	leader, err := c.IsLeader(ctx)
	require.NoError(t, err)
	require.False(t, leader)
	loc, err := c.LeaderLocation(ctx)
	require.NoError(t, err)
	require.Equal(t, want.Leader.String(), loc.String())

	// The Group handshake accepts the longer Implements answer.
	_, err = c.InspectGroups(ctx)
	require.NoError(t, err)

	m.mu.Lock()
	m.err = errors.New("not yet known")
	m.mu.Unlock()
	_, err = c.IsLeader(ctx)
	var rpcErr *RPCError
	require.ErrorAs(t, err, &rpcErr)
	require.Equal(t, "not yet known", rpcErr.Message)
}

// requests records what a server reports to its RequestObserver.
type requests struct {
	mu  sync.Mutex
	got []string
}

var _ RequestObserver = (*requests)(nil)

func (r *requests) ObserveRequest(method string, code int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		method += " negative duration"
	}
	r.got = append(r.got, method+" "+strconv.Itoa(code))
}

func TestRequestObserver(t *testing.T) {
	obs := &requests{}
	m := &fakeManager{fakeGroup: newFakeGroup()}
	s := serveFake(t, m, serverOpts(func(o *ServerOptions) { o.Observer = obs }))
	for _, body := range []string{
		`{"jsonrpc":"2.0","method":"Manager.Status","params":{},"id":1}`,
		`{"jsonrpc":"2.0","method":"Group.FreeGroup","params":{"ID":"nosuch"},"id":1}`,
		`{"jsonrpc":"2.0","method":"Group.FreeGroup","params":"x","id":1}`,
		`{"jsonrpc":"2.0","method":"Random.Name1234","params":{},"id":1}`,
		`{"jsonrpc":"1.0","method":"Group.FreeGroup","id":1}`,
		`not json`,
	} {
		rawExchange(t, s.Path(), rawPost(body))
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Equal(t, []string{
		"Manager.Status 0",
		"Group.FreeGroup -32000",
		"Group.FreeGroup -32600",
		"unknown -32000",
		"invalid -32600",
		"invalid -32700",
	}, obs.got)
}
