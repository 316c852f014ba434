package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/infrakit-manager/manager/internal/field"
)

// Default limits; see Limits.
const (
	DefaultMaxDepth      = 64
	DefaultMaxSpecBytes  = 1 << 20
	DefaultMaxStoreBytes = 16 << 20
)

// Stored form of a spec (sources.EncodeConfig): json.MarshalIndent with
// prefix "  " and indent "  ", the spec being the value of
// {"Groups":{<id>:{"Properties":<spec>}}}, so its members sit three levels
// below the prefix.
const (
	storeIndent    = 2
	storeSpecDepth = 3
	storePrefix    = 2
)

// Limits bound what one request may make the manager store and send. They
// are checked before anything is stored or forwarded. Start from
// DefaultLimits.
type Limits struct {
	// MaxDepth bounds how deeply arrays and objects nest in a spec's
	// Properties ({} or [] at top level is depth 1). No real group spec comes
	// close to 64; the stored form indents every level, so depth multiplies
	// the stored size.
	MaxDepth int
	// MaxSpecBytes bounds one spec as it will be stored: escaped as the
	// store and the wire escape it ('<', '>', '&', U+2028 and U+2029 become
	// six-byte \u escapes) and indented as the store indents it. The compact
	// form sent downstream and answered by InspectGroups is never larger.
	MaxSpecBytes int
	// MaxStoreBytes bounds the whole encoded store. CheckSpec does not check
	// it: the writer that encodes the store does.
	MaxStoreBytes int
}

// DefaultLimits returns the defaults: depth 64, 1 MiB per spec, 16 MiB for
// the whole store (the request body cap, so InspectGroups answers fit it).
func DefaultLimits() Limits {
	return Limits{MaxDepth: DefaultMaxDepth, MaxSpecBytes: DefaultMaxSpecBytes, MaxStoreBytes: DefaultMaxStoreBytes}
}

// Validate checks the limits without changing them: all > 0, depth within
// what encoding/json itself accepts (10000), and a spec no larger than the
// store. Errors name fields.
func (l Limits) Validate() error {
	var errs []error
	if l.MaxDepth <= 0 || l.MaxDepth > 10000 {
		errs = append(errs, field.Errorf("MaxDepth", "must be in 1..10000, got %d", l.MaxDepth))
	}
	if l.MaxSpecBytes <= 0 {
		errs = append(errs, field.Errorf("MaxSpecBytes", "must be > 0, got %d", l.MaxSpecBytes))
	}
	if l.MaxStoreBytes < l.MaxSpecBytes {
		errs = append(errs, field.Errorf("MaxStoreBytes", "(%d) must not be below MaxSpecBytes (%d)", l.MaxStoreBytes, l.MaxSpecBytes))
	}
	return errors.Join(errs...)
}

// CheckSpec refuses a spec that the store or a strict JSON client could not
// take: an ID or Properties that are not valid UTF-8 (or hold an unpaired
// \uD800-\uDFFF escape), Properties that are not JSON or nest deeper than
// MaxDepth, or a spec larger than MaxSpecBytes as stored. The error names the
// group, the limit and, for encoding and depth, the byte offset in
// Properties; it wraps ErrInvalidUTF8, ErrLimit or (not JSON) neither.
// It reads Properties a few times and allocates nothing proportional to it.
func (l Limits) CheckSpec(spec Spec) error {
	if off := invalidUTF8At([]byte(spec.ID)); off >= 0 {
		return &textError{kind: ErrInvalidUTF8, text: fmt.Sprintf("group ID %q is not valid UTF-8 at byte %d", spec.ID, off)}
	}
	props := spec.Properties
	if off := invalidUTF8At(props); off >= 0 {
		return &textError{kind: ErrInvalidUTF8, text: fmt.Sprintf("group %q: properties are not valid UTF-8 at byte %d", spec.ID, off)}
	}
	m := measure(spec, l.MaxDepth)
	if m.deepAt >= 0 {
		return &textError{kind: ErrLimit, text: fmt.Sprintf(
			"group %q: properties nest deeper than the depth limit of %d levels (at byte %d)", spec.ID, l.MaxDepth, m.deepAt)}
	}
	if len(props) > 0 && !json.Valid(props) {
		return fmt.Errorf("group %q: properties are not valid JSON", spec.ID)
	}
	if off := loneSurrogateAt(props); off >= 0 {
		return &textError{kind: ErrInvalidUTF8, text: fmt.Sprintf(
			"group %q: properties hold an unpaired UTF-16 surrogate escape at byte %d (not valid Unicode)", spec.ID, off)}
	}
	if m.stored > l.MaxSpecBytes {
		text := fmt.Sprintf("group %q: spec is %d bytes as stored (%d as sent), over the spec size limit of %d bytes",
			spec.ID, m.stored, m.sent, l.MaxSpecBytes)
		if m.escapes > 0 {
			text += fmt.Sprintf("; %d characters '<', '>', '&', U+2028 or U+2029 count 6 bytes each as they are stored and sent escaped (\\u003c)", m.escapes)
		}
		return &textError{kind: ErrLimit, text: text}
	}
	return nil
}

// SpecSizes returns the size of spec as the store writes it (escaped and
// indented, see Limits.MaxSpecBytes) and as it is sent (json.Marshal: compact
// and escaped). Properties must be valid JSON for the figures to be exact.
func SpecSizes(spec Spec) (stored, sent int) {
	m := measure(spec, 0)
	return m.stored, m.sent
}

// invalidUTF8At returns the offset of the first byte that is not part of a
// valid UTF-8 sequence, or -1.
func invalidUTF8At(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogateAt returns the offset of the first \uXXXX escape in a string
// of valid JSON that is a surrogate without its pair, or -1.
func loneSurrogateAt(b []byte) int {
	inString, pendingHigh := false, -1
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			if pendingHigh >= 0 {
				return pendingHigh
			}
			inString = false
		case '\\':
			if b[i+1] != 'u' {
				if pendingHigh >= 0 {
					return pendingHigh
				}
				i++
				continue
			}
			v, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 16) // valid JSON: four hex digits
			switch {
			case v >= 0xDC00 && v <= 0xDFFF && pendingHigh < 0:
				return i
			case v >= 0xDC00 && v <= 0xDFFF:
				pendingHigh = -1
			case pendingHigh >= 0:
				return pendingHigh
			case v >= 0xD800 && v <= 0xDBFF:
				pendingHigh = i
			}
			i += 5
		default:
			if pendingHigh >= 0 {
				return pendingHigh
			}
		}
	}
	return -1
}

// measurement is what measure found.
type measurement struct {
	sent, stored int // compact escaped size; size indented as in the store
	escapes      int // characters that grew to a 6-byte escape
	deepAt       int // offset in Properties where MaxDepth was passed, or -1
}

// measure computes the sizes of json.Marshal(spec) and of that indented as
// the store indents it, without building either: the rules are those of
// encoding/json's compact (HTML-escaping) and Indent. With maxDepth > 0 it
// also records where Properties first nest deeper than maxDepth.
func measure(spec Spec, maxDepth int) measurement {
	s := sizer{prefix: storePrefix + storeSpecDepth*storeIndent, deepAt: -1}
	s.feed([]byte(`{"ID":`), false)
	n, esc := stringSize(spec.ID)
	s.compact += n
	s.escapes += esc
	s.feed([]byte(`,"Properties":`), false)
	props := []byte(spec.Properties)
	if len(props) == 0 {
		props = []byte("null")
	}
	s.base, s.maxDepth = s.depth, maxDepth
	s.feed(props, true)
	s.maxDepth = 0
	s.feed([]byte(`}`), false)
	return measurement{sent: s.compact, stored: s.compact + s.indent, escapes: s.escapes, deepAt: s.deepAt}
}

// sizer follows encoding/json's compact-with-escaping and Indent over JSON
// text, counting bytes instead of writing them.
type sizer struct {
	prefix     int // indentation of depth 0
	compact    int // bytes of the compact, escaped form
	indent     int // bytes Indent adds (newlines, indentation, spaces after ':')
	escapes    int
	depth      int
	needIndent bool
	inString   bool
	backslash  bool

	base, maxDepth, deepAt int
}

func (s *sizer) newline(depth int) { s.indent += 1 + s.prefix + depth*storeIndent }

func (s *sizer) feed(b []byte, track bool) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.inString {
			switch {
			case s.backslash:
				s.backslash = false
				s.compact++
			case c == '\\':
				s.backslash = true
				s.compact++
			case c == '"':
				s.inString = false
				s.compact++
			case c == '<' || c == '>' || c == '&':
				s.compact += 6
				s.escapes++
			case c == 0xE2 && i+2 < len(b) && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8: // U+2028, U+2029
				s.compact += 6
				s.escapes++
				i += 2
			default:
				s.compact++
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue // compact drops it
		}
		if s.needIndent && c != '}' && c != ']' {
			s.needIndent = false
			s.depth++
			s.newline(s.depth)
		}
		s.compact++
		switch c {
		case '"':
			s.inString = true
		case '{', '[':
			s.needIndent = true
			if track && s.maxDepth > 0 && s.deepAt < 0 && s.depth+1-s.base > s.maxDepth {
				s.deepAt = i
			}
		case ',':
			s.newline(s.depth)
		case ':':
			s.indent++
		case '}', ']':
			if s.needIndent {
				s.needIndent = false
			} else {
				s.depth--
				s.newline(s.depth)
			}
		}
	}
}

// stringSize is the length of json.Marshal(string(id)) and how many of its
// characters became a 6-byte escape because of HTML escaping.
func stringSize(id ID) (n, escapes int) {
	n = 2
	for i := 0; i < len(id); {
		r, size := utf8.DecodeRuneInString(string(id[i:]))
		i += size
		switch {
		case r == '<' || r == '>' || r == '&':
			n += 6
			escapes++
		case r == '"' || r == '\\' || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20 || r == 0x2028 || r == 0x2029 || (r == utf8.RuneError && size == 1):
			n += 6 // \u00XX, \u2028, \u2029, and \ufffd for a byte that is not UTF-8
		default:
			n += size
		}
	}
	return n, escapes
}
