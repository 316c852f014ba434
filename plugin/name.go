package plugin

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds a plugin name. A socket path must fit sun_path (108
// bytes on Linux), so a long name only fails later with a worse error.
const MaxNameBytes = 64

// ValidateName is the one rule for plugin names (the socket's file name in
// the plugin directory), used by the manager, the simulator, the CLI, Serve
// and Listen: not empty, at most MaxNameBytes, valid UTF-8 of printable
// characters other than space, no '/', no "..", and not ".". The error wraps
// ErrInvalidName and says what is wrong, quoting the name.
func ValidateName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "must not be empty"
	case len(name) > MaxNameBytes:
		reason = fmt.Sprintf("is %d bytes, longer than %d", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		reason = "is not valid UTF-8"
	case strings.ContainsRune(name, '/'):
		reason = "must not contain '/'"
	case name == "." || strings.Contains(name, ".."):
		reason = `must not be "." or contain ".."`
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		reason = "must hold only printable characters, no spaces, NUL or control characters"
	default:
		return nil
	}
	return &textError{kind: ErrInvalidName, text: fmt.Sprintf("invalid plugin name %q: %s", name, reason)}
}
