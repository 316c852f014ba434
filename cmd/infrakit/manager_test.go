package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/plugin/groupsim"
)

// statusManager is a Group (the simulator) that answers the Manager API with
// a fixed status.
type statusManager struct {
	*groupsim.Plugin
	status plugin.ManagerStatus
}

var _ plugin.Manager = (*statusManager)(nil)

func (m *statusManager) IsLeader(context.Context) (bool, error) {
	return m.status.Role == plugin.RoleLeader, nil
}

func (m *statusManager) LeaderLocation(context.Context) (*url.URL, error) {
	return m.status.Leader, nil
}

func (m *statusManager) Status(context.Context) (plugin.ManagerStatus, error) { return m.status, nil }

func serveManager(t *testing.T, s plugin.ManagerStatus) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ik")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sim, err := groupsim.New(groupsim.DefaultOptions())
	require.NoError(t, err)
	srv, err := plugin.Serve(filepath.Join(dir, "group"), &statusManager{Plugin: sim, status: s}, plugin.DefaultServerOptions())
	require.NoError(t, err)
	t.Cleanup(func() {
		sim.Close()
		require.NoError(t, srv.Stop(context.Background()))
	})
	return dir
}

func TestManagerStatus(t *testing.T) {
	when := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	leader := plugin.ManagerStatus{
		Name: "group", Mode: "os", Role: plugin.RoleLeader, Lease: "held", Term: 4,
		Leader: &url.URL{Scheme: "unix", Path: "/p/group"},
		Store:  plugin.StoreStatus{Location: "/s/global.config", Version: "sha256:ab"}, GroupCount: 1,
		Stored:  []plugin.ID{"cattle"},
		Groups:  []plugin.GroupStatus{{ID: "cattle", LastAction: "commit", LastResult: "ok", LastTime: when, Reason: "not running downstream"}},
		Healthy: true,
	}
	dir := serveManager(t, leader)
	out, errOut, code := cli(t, "", "manager", "status", "--plugin-dir", dir)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, `Name:           group
Mode:           os
Role:           leader
Lease:          held
Term:           4 (times this replica has gained leadership since it started)
Leader:         unix:///p/group
Store:          /s/global.config
Store version:  sha256:ab
Groups:         1 stored
Stored:         cattle
Health:         healthy

ID      LAST ACTION  RESULT  WHEN                  REASON
cattle  commit       ok      2026-11-30T12:00:00Z  not running downstream
`, out)

	out, _, code = cli(t, "", "manager", "status", "-o", "json", "--plugin-dir", dir)
	require.Equal(t, 0, code)
	var got struct {
		plugin.ManagerStatus
		Leader *string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, leader.Groups, got.Groups)
	require.Equal(t, leader.Term, got.Term)
	require.Equal(t, leader.Stored, got.Stored)
	require.NotNil(t, got.Leader)
	require.Equal(t, "unix:///p/group", *got.Leader, "-o json prints the leader's URL as a string")
	require.Contains(t, out, `"Leader": "unix:///p/group"`)

	out, _, code = cli(t, "", "manager", "leader", "--plugin-dir", dir)
	require.Equal(t, 0, code)
	require.Equal(t, "IsLeader:   true\nLocation:   unix:///p/group\n", out)

	_, errOut, code = cli(t, "", "manager", "status", "-o", "yaml", "--plugin-dir", dir)
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "-o must be text or json")
}

func TestManagerStatus_Unhealthy(t *testing.T) {
	dir := serveManager(t, plugin.ManagerStatus{
		Name: "group", Mode: "os", Role: plugin.RoleFollower, Lease: "none",
		Healthy: false, Problems: []string{"store: stored config cannot be decoded"},
	})
	out, errOut, code := cli(t, "", "manager", "status", "--plugin-dir", dir)
	require.Equal(t, exitFailure, code)
	require.Contains(t, out, "Health:         NOT HEALTHY\nProblem:        store: stored config cannot be decoded\n")
	require.Contains(t, out, "Stored:         -\n")
	require.Empty(t, errOut, "the printed status says why")

	out, _, code = cli(t, "", "manager", "leader", "--plugin-dir", dir)
	require.Equal(t, 0, code)
	require.Equal(t, "IsLeader:   false\nLocation:   unknown\n", out)
}

func TestManagerStatus_NotAManager(t *testing.T) {
	dir, _ := serveSim(t, "group")
	_, errOut, code := cli(t, "", "manager", "status", "--plugin-dir", dir)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "plugin is not a manager")

	_, errOut, code = cli(t, "", "manager", "status", "--name", "nosuch", "--plugin-dir", dir)
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "Plugin not found: nosuch")
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := cli(t, "", "completion", shell)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "infrakit")
	}
}
