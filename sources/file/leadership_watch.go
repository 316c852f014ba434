package file

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch pokes whenever the leader file may have changed, until ctx is done
// (it then returns nil). It never reads the file itself: the controller
// calls Check on every poke and on its own renewal schedule.
//
// It watches the file's directory with fsnotify, because editors and mv
// replace the file rather than write it, and pokes after a 2 ms settle that
// coalesces one write's burst of events. Every jittered PollInterval it
// re-adds the directory watch (the directory may not have existed yet, or
// was removed) and pokes, for file systems that deliver no events (NFS, a
// leader path that is a symlink to another directory).
func (l *Leadership) Watch(ctx context.Context, poke func()) error {
	if ctx.Err() != nil {
		return nil
	}
	w := &leaderWatch{Leadership: l, dir: filepath.Dir(l.path)}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		l.log.Error(err, "cannot watch leader file, polling only")
	} else {
		defer fsw.Close()
		w.fsw = fsw
		w.addWatch()
	}
	// The file may have changed before the watch was in place.
	poke()

	poll := l.clock.NewTimer(l.jittered())
	defer poll.Stop()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	settling := false
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
		case <-settle.C:
			settling = false
			poke()
		case <-poll.C():
			if w.fsw != nil {
				// Re-adding is idempotent and re-targets a directory that
				// was removed or replaced since the last poll.
				was := w.watching
				if w.addWatch() && !was {
					l.log.Info("watching leader file directory")
				}
			}
			poke()
			poll.Reset(l.jittered())
		}
		if wake && !settling {
			settling = true
			settle.Reset(leaderEventSettle)
		}
	}
}

// leaderWatch is the state of one Watch call; only its goroutine uses it.
type leaderWatch struct {
	*Leadership
	dir      string
	fsw      *fsnotify.Watcher
	watching bool   // the directory watch is in place
	watchErr string // last add-watch error logged
}

// addWatch watches the file's directory and reports whether it now does.
// A failure (the directory does not exist yet) is logged once per distinct
// error; the poll retries.
func (w *leaderWatch) addWatch() bool {
	if err := w.fsw.Add(w.dir); err != nil {
		if err.Error() != w.watchErr {
			w.watchErr = err.Error()
			w.log.Error(err, "cannot watch leader file directory, polling", "dir", w.dir)
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
