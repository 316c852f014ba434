package etcd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/infrakit-manager/manager/internal/field"
	"github.com/infrakit-manager/manager/plugin"
)

const hexDigits = "0123456789ABCDEF"

// EscapeID turns a group ID into a key segment: ASCII letters, digits, '-',
// '_' and '.' stay; every other byte (including '/', '%' and any byte of a
// multi-byte character) becomes %XX. The result is never empty for a
// non-empty ID and never contains '/', so it cannot reach another key's
// namespace, and UnescapeID reverses it exactly.
func EscapeID(id plugin.ID) string {
	var b strings.Builder
	s := string(id)
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPlain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// UnescapeID reverses EscapeID. It refuses anything EscapeID cannot have
// produced (an empty segment, a bad or lower-case escape, an escaped plain
// byte), so two keys never decode to the same ID.
func UnescapeID(seg string) (plugin.ID, error) {
	if seg == "" {
		return "", errors.New("empty key segment")
	}
	out := make([]byte, 0, len(seg))
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case isPlain(c):
			out = append(out, c)
		case c == '%' && i+2 < len(seg):
			hi, lo := strings.IndexByte(hexDigits, seg[i+1]), strings.IndexByte(hexDigits, seg[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("bad escape %q", seg[i:i+3])
			}
			v := byte(hi<<4 | lo)
			if isPlain(v) {
				return "", fmt.Errorf("escape %q of a plain byte", seg[i:i+3])
			}
			out = append(out, v)
			i += 2
		default:
			return "", fmt.Errorf("unexpected byte %q at %d", c, i)
		}
	}
	return plugin.ID(out), nil
}

func isPlain(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// layout names the keys under one prefix.
type layout struct{ prefix string }

func (l layout) election() string          { return l.prefix + "/election/" }
func (l layout) groups() string            { return l.prefix + "/groups/" }
func (l layout) versionKey() string        { return l.groups() } // the directory key itself: no ID escapes to ""
func (l layout) group(id plugin.ID) string { return l.groups() + EscapeID(id) }

// validPrefix reports a prefix that cannot be used.
func validPrefix(p string) error {
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return field.Errorf("Prefix", "%q must start with '/', not end with '/', and have no empty segment", p)
	}
	return nil
}
