package field

import (
	"fmt"
	"strings"
)

// Error is one invalid field: Field is the Options field's name, Err says
// what is wrong with it ("must be > 0, got 0s"). Its text is the two
// joined by a space.
type Error struct {
	Field string
	Err   error
}

// Errorf returns an *Error for the named field; format and args are as in
// fmt.Errorf (so %w wraps).
func Errorf(name, format string, args ...any) error {
	return &Error{Field: name, Err: fmt.Errorf(format, args...)}
}

func (e *Error) Error() string { return e.Field + " " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Rename rewrites, in err's text, every field named in names (field ->
// replacement, e.g. "RenewInterval" -> "--poll-interval") that an *Error
// in err's tree reports, including fields a message mentions besides its
// own ("RenewInterval (1s) must be at most half of LeaseDuration (1s)").
// The result still wraps err (errors.Is and errors.As see through it). An
// err that holds no *Error is returned as it is.
func Rename(err error, names map[string]string) error {
	if err == nil {
		return nil
	}
	var pairs []string
	for _, fe := range all(err) {
		if to, ok := names[fe.Field]; ok {
			pairs = append(pairs, fe.Field, to)
		}
		for from, to := range names {
			if from != fe.Field && strings.Contains(fe.Err.Error(), from) {
				pairs = append(pairs, from, to)
			}
		}
	}
	if len(pairs) == 0 {
		return err
	}
	return &renamed{text: replaceWords(err.Error(), pairs), err: err}
}

// all returns every *Error in err's tree.
func all(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*Error); ok {
			out = append(out, fe)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// replaceWords replaces each from (pairs[i]) by to (pairs[i+1]) where it
// stands as a whole word: not inside a longer identifier.
func replaceWords(s string, pairs []string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		from, to := pairs[i], pairs[i+1]
		var b strings.Builder
		for {
			j := strings.Index(s, from)
			if j < 0 {
				b.WriteString(s)
				break
			}
			end := j + len(from)
			if (j > 0 && (isIdent(s[j-1]) || s[j-1] == '.')) || (end < len(s) && isIdent(s[end])) {
				b.WriteString(s[:end])
			} else {
				b.WriteString(s[:j] + to)
			}
			s = s[end:]
		}
		s = b.String()
	}
	return s
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

type renamed struct {
	text string
	err  error
}

func (r *renamed) Error() string { return r.text }

func (r *renamed) Unwrap() error { return r.err }
