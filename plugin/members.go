package plugin

// member is one member of a JSON object: its key's bytes between the quotes
// and its value's exact bytes, both slices of the object's text.
type member struct {
	key, val []byte
}

// maxFastMembers bounds the members objectMembers takes; objects with more
// go the general way (json.Unmarshal).
const maxFastMembers = 8

// objectMembers splits b, which must be valid JSON (json.Valid), into the
// members of its top-level object, appended to dst. ok is false when b is
// not an object, holds more than maxFastMembers members, or a key holds a
// backslash or a non-ASCII byte: the callers' fast paths (which compare
// keys byte for byte, where encoding/json folds case and decodes escapes)
// then go the general way.
func objectMembers(b []byte, dst []member) ([]member, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return dst, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return dst, true
	}
	for i < len(b) {
		if b[i] != '"' || len(dst) == maxFastMembers {
			return dst, false
		}
		end := i + 1
		for end < len(b) && b[end] != '"' {
			if b[end] == '\\' || b[end] >= 0x80 {
				return dst, false
			}
			end++
		}
		key := b[i+1 : end]
		i = skipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return dst, false
		}
		i = skipSpace(b, i+1)
		vend := valueEnd(b, i)
		dst = append(dst, member{key: key, val: b[i:vend]})
		i = skipSpace(b, vend)
		if i >= len(b) {
			return dst, false
		}
		switch b[i] {
		case '}':
			return dst, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return dst, false
		}
	}
	return dst, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd returns the index just past the valid JSON value starting at i.
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i = stringEnd(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 { // the end of the enclosing object: a scalar ended at i
				return i
			}
		case ',', ' ', '\t', '\r', '\n', ':':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// stringEnd returns the index just past the string whose quote is at i.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// plainString returns the contents of a JSON string value that decodes to
// exactly those bytes: quoted, printable ASCII, no backslash. ok is false
// for any other value (encoding/json would unescape, or replace invalid
// UTF-8), which then goes the general way.
func plainString(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return "", false
	}
	s := val[1 : len(val)-1]
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return "", false
		}
	}
	return string(s), true
}
