package groupsim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/infrakit-manager/manager/plugin"
)

// Event operations.
const (
	OpCommit  = "commit"
	OpFree    = "free"
	OpDestroy = "destroy"
	// OpInspect is an InspectGroups call (Group is empty): a manager's
	// resync reads its downstream once, so a test that proves a resync did
	// nothing counts these first.
	OpInspect = "inspect"
)

// Event is one line of the event log: a completed non-pretend commit, a free,
// a destroy or an inspect, stamped when it completed.
type Event struct {
	T     int64  `json:"t"`     // Unix nanoseconds at completion
	Op    string `json:"op"`    // OpCommit, OpFree, OpDestroy or OpInspect
	Group string `json:"group"` // group ID
	OK    bool   `json:"ok"`    // the call returned no error
}

// OpenEventFile opens (creating it if needed) an event log for appending.
// Several processes may share one file: each event is one write of one line
// to a file opened with O_APPEND.
func OpenEventFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	return f, nil
}

// ReadEvents parses an event log. A last line without its newline (a write
// in progress) is ignored; any other malformed line is an error.
func ReadEvents(r io.Reader) ([]Event, error) {
	br := bufio.NewReader(r)
	var events []Event
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, fmt.Errorf("read event log: %w", err)
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return events, fmt.Errorf("event log line %d: %w", n, err)
		}
		events = append(events, ev)
	}
}

// ReadEventFile parses the event log at path.
func ReadEventFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	defer f.Close()
	return ReadEvents(f)
}

// eventWriter writes events, one Write per line. A nil *eventWriter records nothing.
type eventWriter struct {
	mu    sync.Mutex
	w     io.Writer
	clock clock.PassiveClock
	log   logr.Logger
	buf   []byte // the line being written, under mu
}

func (e *eventWriter) record(op string, id plugin.ID, ok bool) {
	if e == nil {
		return
	}
	ev := Event{T: e.clock.Now().UnixNano(), Op: op, Group: string(id), OK: ok}
	e.mu.Lock()
	defer e.mu.Unlock()
	line, err := appendEvent(e.buf[:0], ev)
	if err != nil {
		e.log.Error(err, "cannot encode event", "group", id)
		return
	}
	e.buf = line
	if _, err := e.w.Write(line); err != nil {
		e.log.Error(err, "cannot record event", "group", id, "op", op)
	}
}

// appendEvent appends json.Marshal(ev) and a newline. Strings made of
// printable ASCII that JSON writes as they are (the usual op and group
// names) are copied; any other goes through json.Marshal.
func appendEvent(b []byte, ev Event) ([]byte, error) {
	if !plainJSONString(ev.Op) || !plainJSONString(ev.Group) {
		line, err := json.Marshal(ev)
		if err != nil {
			return b, err
		}
		return append(append(b, line...), '\n'), nil
	}
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, ev.T, 10)
	b = append(b, `,"op":"`...)
	b = append(b, ev.Op...)
	b = append(b, `","group":"`...)
	b = append(b, ev.Group...)
	b = append(b, `","ok":`...)
	b = strconv.AppendBool(b, ev.OK)
	return append(b, "}\n"...), nil
}

// plainJSONString reports whether json.Marshal writes s as "s": printable
// ASCII without the characters it escapes (quote, backslash, and <, >, &).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
