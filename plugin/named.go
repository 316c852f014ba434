package plugin

import (
	"context"
	"io/fs"
	"os"
	"sync"
)

// NamedClient is a Group bound to a plugin name rather than a socket path: it
// looks the name up in its Dir at every call, so a plugin that starts later
// or restarts is found. It keeps one *Client per live socket (same path and
// inode) so that keep-alive connections and the cached handshake are reused;
// a new socket (the plugin restarted) gets a fresh Client and therefore a
// fresh handshake. A name that is not found gives Dir.Find's error. It is
// safe for concurrent use.
type NamedClient struct {
	dir  Dir
	name string
	opts ClientOptions

	mu     sync.Mutex
	client *Client
	ident  fs.FileInfo // identity of the socket client talks to
}

var _ Group = (*NamedClient)(nil)

// NewNamedClient returns a client for the plugin called name in dir. It does
// not look the name up until the first call.
func NewNamedClient(dir Dir, name string, opts ClientOptions) *NamedClient {
	return &NamedClient{dir: dir, name: name, opts: opts}
}

// Name returns the plugin name.
func (n *NamedClient) Name() string { return n.name }

// Close closes the idle connections of the current client.
func (n *NamedClient) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client != nil {
		n.client.Close()
	}
}

// resolve returns the Client for the socket that now carries the name.
func (n *NamedClient) resolve() (*Client, error) {
	path, fi, err := n.dir.find(n.name)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.client != nil && n.client.Path() == path && sameSocket(n.ident, fi) {
		return n.client, nil
	}
	if n.client != nil {
		n.client.Close()
	}
	n.client, n.ident = NewClient(path, n.opts), fi
	return n.client, nil
}

// sameSocket reports whether two lookups saw the same socket file. The
// modification time guards against an inode number reused by a new socket.
func sameSocket(a, b fs.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// Implements asks the plugin which APIs it implements, without caching.
func (n *NamedClient) Implements(ctx context.Context) ([]InterfaceSpec, error) {
	c, err := n.resolve()
	if err != nil {
		return nil, err
	}
	return c.Implements(ctx)
}

// CommitGroup looks the plugin up and calls Group.CommitGroup.
func (n *NamedClient) CommitGroup(ctx context.Context, spec Spec, pretend bool) (string, error) {
	c, err := n.resolve()
	if err != nil {
		return "", err
	}
	return c.CommitGroup(ctx, spec, pretend)
}

// FreeGroup looks the plugin up and calls Group.FreeGroup.
func (n *NamedClient) FreeGroup(ctx context.Context, id ID) error {
	c, err := n.resolve()
	if err != nil {
		return err
	}
	return c.FreeGroup(ctx, id)
}

// DescribeGroup looks the plugin up and calls Group.DescribeGroup.
func (n *NamedClient) DescribeGroup(ctx context.Context, id ID) (Description, error) {
	c, err := n.resolve()
	if err != nil {
		return Description{}, err
	}
	return c.DescribeGroup(ctx, id)
}

// DestroyGroup looks the plugin up and calls Group.DestroyGroup.
func (n *NamedClient) DestroyGroup(ctx context.Context, id ID) error {
	c, err := n.resolve()
	if err != nil {
		return err
	}
	return c.DestroyGroup(ctx, id)
}

// InspectGroups looks the plugin up and calls Group.InspectGroups.
func (n *NamedClient) InspectGroups(ctx context.Context) ([]Spec, error) {
	c, err := n.resolve()
	if err != nil {
		return nil, err
	}
	return c.InspectGroups(ctx)
}
