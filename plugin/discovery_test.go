package plugin

import (
	"net"
	"os"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultDir(t *testing.T) {
	t.Setenv(PluginsDirEnv, "/srv/plugins")
	require.Equal(t, "/srv/plugins", DefaultDir())

	t.Setenv(PluginsDirEnv, "")
	t.Setenv("HOME", "/somewhere/else")
	u, err := user.Current()
	if err == nil && u.HomeDir != "" {
		// As in the original, $HOME does not move it for a known user.
		require.Equal(t, filepath.Join(u.HomeDir, ".infrakit", "plugins"), DefaultDir())
	} else {
		require.Equal(t, "/somewhere/else/.infrakit/plugins", DefaultDir())
	}
}

// pluginDir makes a directory with sockets b and a, a regular file, a
// sub-directory and a symlink to a socket.
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := sockDir(t)
	for _, name := range []string{"b", "a"} {
		ln, err := Listen(filepath.Join(dir, name))
		require.NoError(t, err)
		t.Cleanup(func() { _ = ln.Close() })
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link")))
	return dir
}

func TestDirFind(t *testing.T) {
	dir := pluginDir(t)
	d := Dir{Path: dir}
	path, err := d.Find("a")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "a"), path)

	for _, name := range []string{"nosuch", "file", "sub", "link"} {
		t.Run(name, func(t *testing.T) {
			_, err := d.Find(name)
			require.EqualError(t, err, "Plugin not found: "+name)
			require.ErrorIs(t, err, ErrPluginNotFound)
		})
	}
	for _, name := range []string{"", ".", "..", "../a", "sub/x", "a\x00b"} {
		_, err := d.Find(name)
		require.ErrorIs(t, err, ErrPluginNotFound, name)
		require.ErrorIs(t, err, ErrInvalidName, name)
	}
	_, err = Dir{Path: filepath.Join(dir, "missing")}.Find("a")
	require.EqualError(t, err, "Plugin not found: a")
	_, err = Dir{Path: filepath.Join(dir, "file")}.Find("a")
	require.ErrorIs(t, err, ErrPluginNotFound)
}

func TestDirList(t *testing.T) {
	dir := pluginDir(t)
	got, err := Dir{Path: dir}.List()
	require.NoError(t, err)
	require.Equal(t, []Entry{{Name: "a", Path: filepath.Join(dir, "a")}, {Name: "b", Path: filepath.Join(dir, "b")}}, got)

	got, err = Dir{Path: filepath.Join(dir, "missing")}.List()
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)

	_, err = Dir{Path: filepath.Join(dir, "file")}.List()
	require.Error(t, err)
}

func TestDirFindSeesStaleSockets(t *testing.T) {
	// A socket nobody listens on is still found (as in the original); the
	// call then fails as unreachable.
	dir := sockDir(t)
	ln, err := net.Listen("unix", filepath.Join(dir, "g"))
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	_, err = Dir{Path: dir}.Find("g")
	require.NoError(t, err)
}
