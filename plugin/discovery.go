package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"syscall"
)

// PluginsDirEnv names the environment variable that overrides DefaultDir.
const PluginsDirEnv = "INFRAKIT_PLUGINS_DIR"

// DefaultDir returns the plugin directory: $INFRAKIT_PLUGINS_DIR if it is set
// and non-empty, else <home>/.infrakit/plugins. As in the original, <home> is
// the home directory of the user database (os/user.Current().HomeDir), so
// setting $HOME does not move it for a known user; $HOME is used only when the
// lookup fails or yields no home. If both are empty the result is the relative
// path .infrakit/plugins.
func DefaultDir() string {
	if d := os.Getenv(PluginsDirEnv); d != "" {
		return d
	}
	home := ""
	if u, err := user.Current(); err == nil {
		home = u.HomeDir
	}
	if home == "" {
		home = os.Getenv("HOME")
	}
	return filepath.Join(home, ".infrakit", "plugins")
}

// Dir is a plugin directory: each unix socket in it is a plugin whose name is
// the file name. Every lookup re-reads the directory; nothing is cached.
// Anything that is not a socket (files, directories, symlinks) is ignored.
type Dir struct {
	Path string
}

// Entry is a plugin found in a Dir.
type Entry struct {
	Name string // file name of the socket
	Path string // full socket path
}

// Find returns the socket path of the plugin called name. If there is no
// socket of that name the error text is "Plugin not found: <name>" and
// errors.Is(err, ErrPluginNotFound) holds.
func (d Dir) Find(name string) (string, error) {
	path, _, err := d.find(name)
	return path, err
}

// find is Find that also returns the socket's file info (its identity).
func (d Dir) find(name string) (string, fs.FileInfo, error) {
	if err := ValidateName(name); err != nil {
		return "", nil, fmt.Errorf("%w: %w", err, ErrPluginNotFound)
	}
	path := filepath.Join(d.Path, name)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return "", nil, notFound(name)
	case err != nil:
		return "", nil, fmt.Errorf("look up plugin %s: %w", name, err)
	case fi.Mode()&fs.ModeSocket == 0:
		return "", nil, notFound(name)
	}
	return path, fi, nil
}

// List returns the plugins in the directory, sorted by name. A missing
// directory holds no plugins.
func (d Dir) List() ([]Entry, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list plugins in %s: %w", d.Path, err)
	}
	out := make([]Entry, 0, len(entries))
	for _, e := range entries { // os.ReadDir sorts by file name
		if e.Type()&fs.ModeSocket != 0 {
			out = append(out, Entry{Name: e.Name(), Path: filepath.Join(d.Path, e.Name())})
		}
	}
	return out, nil
}

func notFound(name string) error {
	return &textError{text: "Plugin not found: " + name, kind: ErrPluginNotFound}
}

// textError carries an exact user-facing text and a sentinel kind.
type textError struct {
	text string
	kind error
}

func (e *textError) Error() string { return e.text }
func (e *textError) Unwrap() error { return e.kind }
