package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// osCluster is os mode: a shared leader file and store directory. The run
// writes the leader file, so it knows the holds exactly, and keeps the
// lease rule: it names nobody for a lease (plus a margin) before naming a
// new leader.
type osCluster struct {
	c          *chaos
	leaderFile string
	storeDir   string

	mu  sync.Mutex
	cur string
}

func newOSCluster(c *chaos) (*osCluster, error) {
	o := &osCluster{c: c, leaderFile: filepath.Join(c.dir, "leader"), storeDir: filepath.Join(c.dir, "store")}
	if err := os.MkdirAll(o.storeDir, 0o700); err != nil {
		return nil, err
	}
	return o, o.write("nobody")
}

func (o *osCluster) managerArgs(int) []string {
	return []string{"os", "--leader-file", o.leaderFile, "--store-dir", o.storeDir, "--poll-interval", "250ms"}
}

func (o *osCluster) holder() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cur
}

// write replaces the leader file (temp file, rename).
func (o *osCluster) write(content string) error {
	tmp := o.leaderFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(content+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, o.leaderFile)
}

// name makes name ("" nobody) the leader, recording the holds.
func (o *osCluster) name(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	content := name
	if content == "" {
		content = "nobody"
	}
	now := time.Now()
	if o.cur != "" {
		o.c.rec.holdTo(o.cur, now)
	}
	if err := o.write(content); err != nil {
		o.c.rec.step("leader file: %v", err)
	}
	if name != "" {
		o.c.rec.holdFrom(name, now)
	}
	o.cur = name
}

// flip names nobody, waits a lease and a margin, then names another
// manager (or, one time in eight, nobody).
func (o *osCluster) flip(ctx context.Context, c *chaos) {
	next := c.nodes[c.intn(len(c.nodes))].name
	if c.intn(8) == 0 {
		next = ""
	}
	c.rec.fault("leader-flip", "%q to %q", o.holder(), next)
	if o.holder() != "" {
		o.name("")
		sleep(ctx, lease+300*time.Millisecond)
	}
	o.name(next)
}

// fault: the leader file unreadable (empty) for less than a lease, the
// store's lock held (writes wait and time out), or global.config unreadable
// while the lock is held (so no write is lost when it is put back).
func (o *osCluster) fault(ctx context.Context, c *chaos) {
	switch c.intn(3) {
	case 0:
		d := c.between(200*time.Millisecond, lease-500*time.Millisecond)
		c.rec.fault("leader-unknown", "leader file empty for %s", d.Round(time.Millisecond))
		o.mu.Lock()
		cur := o.cur
		_ = o.write("")
		o.mu.Unlock()
		sleep(ctx, d)
		o.mu.Lock()
		if cur == "" {
			cur = "nobody"
		}
		_ = o.write(cur)
		o.mu.Unlock()
	case 1:
		d := c.between(500*time.Millisecond, 4*time.Second)
		c.rec.fault("store-locked", "global.config's lock held for %s", d.Round(time.Millisecond))
		o.locked(func() { sleep(ctx, d) })
	default:
		d := c.between(300*time.Millisecond, 3*time.Second)
		c.rec.fault("store-unreadable", "global.config replaced by garbage for %s", d.Round(time.Millisecond))
		o.locked(func() {
			path := filepath.Join(o.storeDir, "global.config")
			saved := path + ".chaos"
			if err := os.Rename(path, saved); err != nil {
				c.rec.step("store fault: %v", err)
				return
			}
			_ = os.WriteFile(path, []byte("{not json"), 0o600)
			sleep(ctx, d)
			if err := os.Rename(saved, path); err != nil {
				c.rec.step("store fault undo: %v", err)
			}
		})
	}
}

// locked runs fn holding the file store's write lock.
func (o *osCluster) locked(fn func()) {
	f, err := os.OpenFile(filepath.Join(o.storeDir, ".global.config.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		o.c.rec.step("store lock: %v", err)
		return
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		o.c.rec.step("store lock: %v", err)
		return
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	fn()
}

func (o *osCluster) heal(_ context.Context, c *chaos) error {
	if o.holder() == "" {
		o.name(c.nodes[c.intn(len(c.nodes))].name)
	}
	return nil
}

func (o *osCluster) close() {}

var _ cluster = (*osCluster)(nil)
