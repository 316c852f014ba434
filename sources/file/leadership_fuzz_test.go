package file_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources/file"
)

// referenceIsLeader is the rule written out by hand: strip the four
// characters from both ends one at a time, then compare.
func referenceIsLeader(content []byte, name string) bool {
	isBlank := func(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }
	start, end := 0, len(content)
	for start < end && isBlank(content[start]) {
		start++
	}
	for end > start && isBlank(content[end-1]) {
		end--
	}
	return name != "" && string(content[start:end]) == name
}

func FuzzParseLeaderFile(f *testing.F) {
	for _, seed := range []struct{ content, name string }{
		{"group", "group"}, {"group\r\n", "group"}, {" \tgroup\n\n", "group"},
		{"", ""}, {"group2", "group"}, {"\r", "\r"}, {"a\x00", "a"}, {"\xff", "\xff"},
	} {
		f.Add([]byte(seed.content), seed.name)
	}
	f.Fuzz(func(t *testing.T, content []byte, name string) {
		require.Equal(t, referenceIsLeader(content, name), file.ParseLeaderFile(content, name))
		// Whatever the name, a file holding exactly the name with any line
		// ending elects it, unless the name itself starts or ends with blanks.
		if name != "" && referenceIsLeader([]byte(name), name) {
			require.True(t, file.ParseLeaderFile([]byte(name+"\r\n"), name))
		}
	})
}
