package plugin

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"
)

// NamedClient is a Group bound to a plugin name rather than a socket path: it
// looks the name up in its Dir, so a plugin that starts later or restarts is
// found. It keeps one *Client per live socket (same path and inode) so that
// keep-alive connections and the cached handshake are reused; a new socket
// (the plugin restarted) gets a fresh Client and therefore a fresh handshake.
//
// A successful lookup is trusted for RecheckInterval (one stat per call was a
// quarter of the CPU of a busy caller). A transport failure ends that trust at
// once: the name is looked up again and, if it now names a different socket
// (the plugin restarted), the call is retried once on it. A name that is not
// found gives Dir.Find's error. It is safe for concurrent use.
type NamedClient struct {
	dir  Dir
	name string
	opts ClientOptions

	mu      sync.Mutex
	client  *Client
	ident   fs.FileInfo // identity of the socket client talks to
	checked time.Time   // when ident was last confirmed
}

// RecheckInterval is how long a NamedClient trusts a lookup.
const RecheckInterval = 100 * time.Millisecond

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

// resolve returns the Client for the socket that now carries the name,
// looking it up unless a lookup younger than RecheckInterval is trusted.
func (n *NamedClient) resolve(force bool) (*Client, error) {
	n.mu.Lock()
	if !force && n.client != nil && time.Since(n.checked) < RecheckInterval {
		c := n.client
		n.mu.Unlock()
		return c, nil
	}
	n.mu.Unlock()

	path, fi, err := n.dir.find(n.name)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.checked = time.Now()
	if n.client != nil && n.client.Path() == path && sameSocket(n.ident, fi) {
		return n.client, nil
	}
	if n.client != nil {
		n.client.Close()
	}
	// A Client only ever talks to the socket it was made for: if the name
	// now carries another socket when a new connection is needed, the dial
	// fails, and do looks the name up again.
	n.client = newClient(path, n.opts, func() error {
		now, err := os.Lstat(path)
		if err != nil || !sameSocket(fi, now) {
			return errSocketChanged
		}
		return nil
	})
	n.ident = fi
	return n.client, nil
}

// errSocketChanged fails a dial on a socket that is no longer the one the
// Client was made for.
var errSocketChanged = errors.New("plugin socket was replaced (plugin restarted)")

// do runs call on the current Client; after a transport failure it looks
// the name up again and retries once if the plugin's socket has changed (a
// request to a dead process never reached the new one).
func (n *NamedClient) do(ctx context.Context, call func(*Client) error) error {
	c, err := n.resolve(false)
	if err != nil {
		return err
	}
	err = call(c)
	if err == nil || !errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
		return err
	}
	again, rerr := n.resolve(true)
	switch {
	case rerr != nil:
		return rerr // e.g. "Plugin not found": says more than the failed dial
	case again == c:
		return err
	default:
		return call(again)
	}
}

// sameSocket reports whether two lookups saw the same socket file. The
// modification time guards against an inode number reused by a new socket.
func sameSocket(a, b fs.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// Implements asks the plugin which APIs it implements, without caching.
func (n *NamedClient) Implements(ctx context.Context) (apis []InterfaceSpec, err error) {
	err = n.do(ctx, func(c *Client) (err error) { apis, err = c.Implements(ctx); return err })
	return apis, err
}

// CommitGroup looks the plugin up and calls Group.CommitGroup.
func (n *NamedClient) CommitGroup(ctx context.Context, spec Spec, pretend bool) (details string, err error) {
	err = n.do(ctx, func(c *Client) (err error) { details, err = c.CommitGroup(ctx, spec, pretend); return err })
	return details, err
}

// FreeGroup looks the plugin up and calls Group.FreeGroup.
func (n *NamedClient) FreeGroup(ctx context.Context, id ID) error {
	return n.do(ctx, func(c *Client) error { return c.FreeGroup(ctx, id) })
}

// DescribeGroup looks the plugin up and calls Group.DescribeGroup.
func (n *NamedClient) DescribeGroup(ctx context.Context, id ID) (desc Description, err error) {
	err = n.do(ctx, func(c *Client) (err error) { desc, err = c.DescribeGroup(ctx, id); return err })
	return desc, err
}

// DestroyGroup looks the plugin up and calls Group.DestroyGroup.
func (n *NamedClient) DestroyGroup(ctx context.Context, id ID) error {
	return n.do(ctx, func(c *Client) error { return c.DestroyGroup(ctx, id) })
}

// InspectGroups looks the plugin up and calls Group.InspectGroups.
func (n *NamedClient) InspectGroups(ctx context.Context) (specs []Spec, err error) {
	err = n.do(ctx, func(c *Client) (err error) { specs, err = c.InspectGroups(ctx); return err })
	return specs, err
}
