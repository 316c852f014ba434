package etcd

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

func TestEscapeID(t *testing.T) {
	for _, tc := range []struct {
		id   plugin.ID
		want string
	}{
		{"cattle", "cattle"},
		{"web-1.prod_a", "web-1.prod_a"},
		{"a/b", "a%2Fb"},
		{"../x", "..%2Fx"},
		{"%41", "%2541"},
		{"with space", "with%20space"},
		{"ü", "%C3%BC"},
		{"\x00", "%00"},
	} {
		t.Run(string(tc.id), func(t *testing.T) {
			got := EscapeID(tc.id)
			require.Equal(t, tc.want, got)
			back, err := UnescapeID(got)
			require.NoError(t, err)
			require.Equal(t, tc.id, back)
		})
	}
}

func TestUnescapeIDRefusesWhatEscapeNeverWrites(t *testing.T) {
	for _, seg := range []string{"", "a/b", "%2", "%zz", "%2f", "%41", "a b", "%"} {
		t.Run(seg, func(t *testing.T) {
			_, err := UnescapeID(seg)
			require.Error(t, err)
		})
	}
}

// FuzzEscapeID: every ID escapes to a non-empty segment without '/' that
// unescapes to the same ID and is the only segment that does.
func FuzzEscapeID(f *testing.F) {
	for _, s := range []string{"cattle", "a/b", "%", "ü", "..", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		seg := EscapeID(plugin.ID(s))
		if seg == "" || strings.Contains(seg, "/") {
			t.Fatalf("EscapeID(%q) = %q", s, seg)
		}
		back, err := UnescapeID(seg)
		if err != nil || string(back) != s {
			t.Fatalf("UnescapeID(EscapeID(%q)) = %q, %v", s, back, err)
		}
		if id, err := UnescapeID(s); err == nil && EscapeID(id) != s {
			t.Fatalf("segment %q decodes to %q, which escapes to %q: two keys for one ID", s, id, EscapeID(id))
		}
	})
}
