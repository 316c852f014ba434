//go:build unix

package claim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"
)

// Sentinel errors. Check with errors.Is.
var (
	// ErrHeld: another process holds the claim; the error names it.
	ErrHeld = errors.New("claimed by another process")
)

// Holder says who holds a claim; it is the lock file's content.
type Holder struct {
	Name  string    `json:"name"`
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("%s (pid %d on %s, since %s)", h.Name, h.PID, h.Host, h.Since.UTC().Format(time.RFC3339))
}

// Self is the Holder this process writes: name, the host name and pid.
func Self(name string) Holder {
	host, _ := os.Hostname()
	return Holder{Name: name, Host: host, PID: os.Getpid(), Since: time.Now()}
}

// File is one claim: an flock on Path. Safe for concurrent use.
type File struct {
	path string
	what string
	self Holder

	mu sync.Mutex
	f  *os.File // the locked file; nil: not held
}

// New returns a claim on path, not taken yet. what says what is claimed, in
// words ("downstream group-stateless"), for errors and status.
func New(path, what string, self Holder) *File {
	return &File{path: path, what: what, self: self}
}

// String says what is claimed and where.
func (c *File) String() string { return c.what + " (" + c.path + ")" }

// Take takes the claim. It fails with ErrHeld, naming the holder, if
// another process (or another File in this process) holds it, and with the
// system's error if the lock file cannot be made.
func (c *File) Take() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		return nil
	}
	return c.take()
}

func (c *File) take() error {
	// Read-only: a file open for writing would keep its file system from
	// being remounted read-only. flock needs no write access. O_NOFOLLOW: a
	// planted symlink must not make us create a file elsewhere.
	f, err := os.OpenFile(c.path, os.O_RDONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("claim %s: %w", c, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%s: %w: %s", c, ErrHeld, holderOf(f))
		}
		return fmt.Errorf("claim %s: %w", c, err)
	}
	c.sayWho(f)
	if c.f != nil {
		_ = c.f.Close()
	}
	c.f = f
	return nil
}

// sayWho writes who holds the claim into the locked file, through a
// second, short-lived descriptor. It is information for the next taker:
// failing to write it (a full disk) does not make the claim less held.
func (c *File) sayWho(locked *os.File) {
	w, err := os.OpenFile(c.path, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer w.Close()
	a, errA := locked.Stat()
	b, errB := w.Stat()
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		return // replaced in between: not ours to write
	}
	data, _ := json.Marshal(c.self)
	if err := w.Truncate(0); err == nil {
		_, _ = w.WriteAt(append(data, '\n'), 0)
	}
}

// holderOf reads who holds the lock of f.
func holderOf(f *os.File) string {
	data, err := io.ReadAll(io.LimitReader(f, 4096))
	var h Holder
	if err != nil || json.Unmarshal(data, &h) != nil || h.PID == 0 {
		return "held by a process that did not say who it is"
	}
	return "held by " + h.String()
}

// Verify checks that the claim is still held: Path is still the file this
// process locked, or, if that file was removed or replaced (the directory
// emptied, swapped or mounted over), nobody holds the file now at Path.
// ErrHeld means another process holds it: two processes claim one thing.
// The file now at Path is only tried, never kept open, so a claim never
// pins a file system mounted over its directory; the lock this process
// took stays held. A claim never taken is taken now.
func (c *File) Verify() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return c.take()
	}
	mine, err := c.f.Stat()
	if err != nil {
		return fmt.Errorf("claim %s: %w", c, err)
	}
	now, err := os.Lstat(c.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // nobody can hold a file that is not there
	case err != nil:
		return fmt.Errorf("claim %s: %w", c, err)
	case os.SameFile(mine, now):
		return nil
	}
	return c.try()
}

// try locks and unlocks the file now at Path: ErrHeld if another process
// holds it.
func (c *File) try() error {
	f, err := os.OpenFile(c.path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim %s: %w", c, err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return fmt.Errorf("%s: %w: %s", c, ErrHeld, holderOf(f))
	default:
		return fmt.Errorf("claim %s: %w", c, err)
	}
}

// Release gives the claim up. The lock file stays (removing it would let a
// third process lock a new file while a second still waits on the old one).
func (c *File) Release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		_ = c.f.Close()
		c.f = nil
	}
}
