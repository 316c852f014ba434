package plugin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

// probeTimeout bounds the dial that tells a live socket from a stale one.
const probeTimeout = time.Second

// Listen listens on the unix socket path, creating its parent directory with
// mode 0700 if missing, and gives the socket mode 0600. The socket is created
// with the process umask and then chmod-ed; the umask is not changed because
// it is process-wide, so a private parent directory is what guards that
// instant.
//
// The socket's file name must pass ValidateName. If path exists: a socket on which a server accepts is refused with an error
// naming the path that matches ErrSocketInUse; a socket nothing accepts on
// (left behind by kill -9) is removed and replaced; anything else (directory,
// regular file) is refused and left untouched. Two processes racing for the
// same stale path are not arbitrated beyond what bind(2) does.
//
// Closing the returned listener removes the socket file if it is still the
// one created here (same inode), never a successor's.
func Listen(path string) (net.Listener, error) {
	ln, _, err := listen(path)
	if err != nil {
		return nil, err
	}
	return ln, nil
}

// listen is Listen that also reports whether a stale socket was replaced.
func listen(path string) (*socketListener, bool, error) {
	if path == "" {
		return nil, false, errors.New("listen: empty socket path")
	}
	if err := ValidateName(filepath.Base(path)); err != nil {
		return nil, false, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("listen %s: create directory: %w", path, err)
	}
	replaced := false
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, false, fmt.Errorf("listen %s: %w", path, err)
	case fi.Mode()&fs.ModeSocket == 0:
		return nil, false, fmt.Errorf("listen %s: path exists and is not a socket (%s); refusing to replace it",
			path, describeMode(fi.Mode()))
	default:
		live, err := probe(path)
		if err != nil {
			return nil, false, fmt.Errorf("listen %s: cannot tell whether the existing socket is stale: %w", path, err)
		}
		if live {
			return nil, false, fmt.Errorf("listen %s: %w", path, ErrSocketInUse)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, fmt.Errorf("listen %s: remove stale socket: %w", path, err)
		}
		replaced = true
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, false, err // a *net.OpError naming the path
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // removal is ours, and only of our own inode
	sl := &socketListener{UnixListener: ul, path: path}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ul.Close()
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("listen %s: chmod socket: %w", path, err)
	}
	if sl.ident, err = os.Lstat(path); err != nil {
		_ = ul.Close()
		return nil, false, fmt.Errorf("listen %s: %w", path, err)
	}
	return sl, replaced, nil
}

// probe dials path: true when a server accepts, false when nothing listens
// (connection refused) or the socket vanished meanwhile.
func probe(path string) (bool, error) {
	conn, err := net.DialTimeout("unix", path, probeTimeout)
	switch {
	case err == nil:
		_ = conn.Close()
		return true, nil
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	default:
		return "mode " + m.String()
	}
}

// socketListener removes its socket file on Close if the file is still ours.
type socketListener struct {
	*net.UnixListener
	path  string
	ident fs.FileInfo

	once     sync.Once
	closeErr error
}

// Close stops accepting and removes the socket file if it has the inode this
// listener created. It is safe to call more than once.
func (l *socketListener) Close() error {
	l.once.Do(func() {
		l.closeErr = l.UnixListener.Close()
		if cur, err := os.Lstat(l.path); err == nil && os.SameFile(cur, l.ident) {
			_ = os.Remove(l.path)
		}
	})
	return l.closeErr
}

// Server serves a Group on a unix socket (Serve) or a TCP address
// (ServeTCP).
type Server struct {
	path   string // socket path, or the URL served
	ln     net.Listener
	conns  *connLimiter
	http   *http.Server
	served chan struct{}

	stopOnce sync.Once
	stopErr  error
}

// Serve listens on path (see Listen) and serves g there in the background
// until Stop, within the bounds of opts (deadlines, connection cap; see
// ServerOptions). Replacing a stale socket is logged; that it listens is not
// (at info level): the caller logs that once, with what it knows.
func Serve(path string, g Group, opts ServerOptions) (*Server, error) {
	if g == nil {
		return nil, errors.New("plugin: Serve needs a Group")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("plugin: %w", err)
	}
	ln, replaced, err := listen(path)
	if err != nil {
		return nil, err
	}
	if replaced {
		opts.Log.Info("replaced stale socket", "path", path)
	}
	return serveOn(ln, path, g, opts), nil
}

// serveOn serves g on ln (the raw listener, TLS already layered on it if
// any) with the connection cap and deadlines of opts (defaults applied).
func serveOn(ln net.Listener, label string, g Group, opts ServerOptions) *Server {
	lim := newConnLimiter(ln, opts.MaxConns, opts.Log)
	h := newHandler(g, opts)
	h.conns = lim
	s := &Server{
		path:  label,
		ln:    ln,
		conns: lim,
		http: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: opts.ReadHeaderTimeout,
			IdleTimeout:       opts.IdleTimeout,
			ConnState:         lim.connStateHook,
			ConnContext: func(ctx context.Context, c net.Conn) context.Context {
				return context.WithValue(ctx, connKey{}, c)
			},
			ErrorLog: log.New(logWriter{opts.Log}, "", 0),
		},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(lim); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.Log.Error(err, "serve failed", "path", label)
		}
	}()
	// The caller logs the one info-level "listening" line, with what it knows.
	opts.Log.V(1).Info("serving", "path", label, "maxConns", opts.MaxConns)
	return s
}

// Path returns the socket path.
func (s *Server) Path() string { return s.path }

// Stop stops accepting, removes the socket file (if it is still ours) and
// waits for in-flight calls to finish until ctx is done; then it closes the
// remaining connections, which cancels their requests' contexts, and returns
// an error wrapping ctx.Err(). It is idempotent: later calls return the first
// call's result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if err := s.http.Shutdown(ctx); err != nil {
			_ = s.http.Close()
			s.stopErr = fmt.Errorf("stop server at %s: %w", s.path, err)
		}
		_ = s.ln.Close() // already closed by Shutdown; makes sure the socket is gone
		<-s.served
	})
	return s.stopErr
}

// logWriter adapts http.Server's error log to logr.
type logWriter struct{ log logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") {
		// A client without a certificate, with one from another CA, or
		// speaking plaintext to the TLS port: refused, and said so.
		w.log.Info("refused connection", "reason", msg)
		return len(p), nil
	}
	w.log.V(1).Info("http server error", "error", msg)
	return len(p), nil
}
