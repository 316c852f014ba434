package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// TestOSForeignEditSeenAtOnce: a person edits global.config behind the
// leader's back (rename, rewrite in place, rewrite in place keeping the size
// and the modification time). The very next ls answers the edited groups,
// although the manager serves unchanged stores from memory, and the next
// commit keeps the edit (it is detected, never overwritten blindly).
func TestOSForeignEditSeenAtOnce(t *testing.T) {
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	_, errOut, exit := a.cli("commit", c.writeSpec("cattle", cattleSpec))
	require.Equal(t, 0, exit, errOut)

	// addGroup returns the store with one more group, compact as a hand edit.
	addGroup := func(t *testing.T, id string) []byte {
		cfg, err := sources.DecodeConfig(fileBytes(t, c.storePath()))
		require.NoError(t, err)
		spec := strings.Replace(petsSpec, `"ID":"pets"`, `"ID":"`+id+`"`, 1)
		cfg.Groups[plugin.ID(id)] = sources.Entry{Plugin: "group-stateless", Properties: json.RawMessage(spec)}
		data, err := json.Marshal(cfg)
		require.NoError(t, err)
		return data
	}
	edits := []struct {
		name  string
		write func(t *testing.T, data []byte)
	}{
		{"write and rename", func(t *testing.T, data []byte) { writeFileAtomic(t, c.storePath(), data) }},
		{"rewrite in place", func(t *testing.T, data []byte) { require.NoError(t, os.WriteFile(c.storePath(), data, 0o600)) }},
		{"rewrite in place, same size and mtime", func(t *testing.T, data []byte) {
			fi, err := os.Stat(c.storePath())
			require.NoError(t, err)
			if pad := int(fi.Size()) - len(data); pad > 0 {
				data = append(data, bytes.Repeat([]byte(" "), pad)...)
			}
			require.NoError(t, os.WriteFile(c.storePath(), data, 0o600))
			require.NoError(t, os.Chtimes(c.storePath(), fi.ModTime(), fi.ModTime()))
		}},
	}
	want := []string{"cattle"}
	for i, e := range edits {
		c.run(t, e.name, func(t *testing.T) {
			out, errOut, exit := a.cli("ls") // served from memory now
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "ID\n"+strings.Join(sorted(want), "\n")+"\n", out)

			edited := "edit" + string(rune('a'+i))
			e.write(t, addGroup(t, edited))
			want = append(want, edited)
			out, errOut, exit = a.cli("ls")
			require.Equal(t, 0, exit, errOut)
			require.Equal(t, "ID\n"+strings.Join(sorted(want), "\n")+"\n", out, "the edit is seen by the next ls")

			mine := "mine" + string(rune('a'+i))
			_, errOut, exit = a.cli("commit", c.writeSpec(mine, strings.Replace(petsSpec, `"ID":"pets"`, `"ID":"`+mine+`"`, 1)))
			require.Equal(t, 0, exit, errOut)
			want = append(want, mine)
			require.ElementsMatch(t, want, c.stored(), "the commit kept the edit")
		})
	}
}
