package sources

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch reports the leader file's status: once at once, then on every
// change, until ctx is done (it then returns nil).
//
// It watches the file's directory with fsnotify, because editors and mv
// replace the file rather than write it, and reacts to an event for the
// file's name after a 2 ms settle that coalesces one write's burst of events.
// It also re-reads the file every jittered PollInterval, for file systems
// that deliver no events (NFS, a leader path that is a symlink to another
// directory) and to re-add the directory watch if the directory did not
// exist yet or was removed. A missing or unreadable file is "not leader";
// each distinct read error is logged once, not on every poll.
func (l *FileLeadership) Watch(ctx context.Context, changed func(leader bool)) error {
	if ctx.Err() != nil {
		return nil
	}
	w := &leaderWatch{FileLeadership: l, dir: filepath.Dir(l.path), changed: changed}
	w.refresh(ctx)

	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		l.log.Error(err, "cannot watch leader file, polling only")
	} else {
		defer fsw.Close()
		w.fsw = fsw
		if w.addWatch() {
			// The file may have changed before the watch was in place.
			w.refresh(ctx)
		}
	}

	poll := l.clock.NewTimer(l.jittered())
	defer poll.Stop()
	var settle *time.Timer
	var settled <-chan time.Time
	defer func() {
		if settle != nil {
			settle.Stop()
		}
	}()
	for {
		var events <-chan fsnotify.Event
		var errs <-chan error
		if w.fsw != nil {
			events, errs = w.fsw.Events, w.fsw.Errors
		}
		wake := false
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				w.fsw = nil
				continue
			}
			wake = w.relevant(ev)
		case err, ok := <-errs:
			if !ok {
				w.fsw = nil
				continue
			}
			// Most likely an event overflow: events may be lost, so look.
			l.log.V(1).Info("leader file watch error", "error", err.Error())
			wake = true
		case <-settled:
			settled = nil
			w.refresh(ctx)
		case <-poll.C():
			if w.fsw != nil {
				// Re-adding is idempotent and re-targets a directory that
				// was removed or replaced since the last poll.
				was := w.watching
				if w.addWatch() && !was {
					l.log.Info("watching leader file directory")
				}
			}
			w.refresh(ctx)
			poll.Reset(l.jittered())
		}
		if wake && settled == nil {
			if settle == nil {
				settle = time.NewTimer(leaderEventSettle)
			} else {
				settle.Reset(leaderEventSettle)
			}
			settled = settle.C
		}
	}
}

// leaderWatch is the state of one Watch call; only its goroutine uses it.
type leaderWatch struct {
	*FileLeadership
	dir      string
	changed  func(bool)
	fsw      *fsnotify.Watcher
	watching bool   // the directory watch is in place
	watchErr string // last add-watch error logged
	readErr  string // last read error logged
	reported bool   // the first status was delivered
	leader   bool   // the last status delivered
}

// refresh reads the file and calls changed if the status differs from the
// last one delivered (or none was delivered yet).
func (w *leaderWatch) refresh(ctx context.Context) {
	leader, err := w.Check(ctx)
	if ctx.Err() != nil {
		return
	}
	switch {
	case err != nil && err.Error() != w.readErr:
		w.readErr = err.Error()
		w.log.Error(err, "cannot read leader file, not leader")
	case err == nil && w.readErr != "":
		w.readErr = ""
		w.log.Info("leader file readable again")
	}
	if w.reported && leader == w.leader {
		return
	}
	w.reported, w.leader = true, leader
	w.log.V(1).Info("leadership changed", "leader", leader)
	w.changed(leader)
}

// addWatch watches the file's directory and reports whether it now does.
// A failure (the directory does not exist yet) is logged once per distinct
// error; the poll retries.
func (w *leaderWatch) addWatch() bool {
	if err := w.fsw.Add(w.dir); err != nil {
		if err.Error() != w.watchErr {
			w.watchErr = err.Error()
			w.log.Info("cannot watch leader file directory, polling", "dir", w.dir, "error", err.Error())
		}
		return false
	}
	w.watchErr = ""
	w.watching = true
	return true
}

// relevant reports whether ev may have changed the leader file. The removal
// or rename of the watched directory itself ends the watch (fsnotify drops
// it; the next poll adds the directory again once it is back) and counts as
// a change.
func (w *leaderWatch) relevant(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	if name == w.path {
		return true
	}
	if name == w.dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		w.watching = false
		return true
	}
	return false
}
