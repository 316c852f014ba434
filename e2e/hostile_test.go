package e2e

// The hostile-input suite (hostile_*_test.go, `go test -race -run Hostile
// ./e2e/...`): requests and command lines built to hurt the manager or its
// other clients, each a table row over the real socket of a real manager
// process. Every row prints the answer, whether the manager is alive, the
// store, what an innocent client saw, and the manager's RSS and open
// descriptors before and after.

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
)

// hostileNode starts a leading os-mode node (race-built manager).
func hostileNode(t *testing.T) (*osCluster, *osNode) {
	t.Helper()
	c := newOSCluster(t, nameA)
	a := c.node(nameA)
	a.startSim()
	a.startManager()
	return c, a
}

// TestHostileSpecs: specs that once grew the store quadratically, failed
// the store's encoder, broke InspectGroups for everyone or got a misleading
// limit error. Each is refused with a -32000 error naming the group and the
// limit, nothing of it is stored or forwarded, and an innocent commit made
// right after it succeeds.
func TestHostileSpecs(t *testing.T) {
	c, a := hostileNode(t)
	mgr := groupClient(t, a.socket())
	limits := plugin.DefaultLimits()

	t.Run("largest store one request can produce", func(t *testing.T) {
		before := fileSize(c.storePath())
		// A note sized so that the spec as stored is exactly the limit.
		note := func(n int) plugin.Spec {
			return plugin.Spec{ID: "largest", Properties: groupProps(`"` + strings.Repeat("a", n) + `"`)}
		}
		stored, _ := plugin.SpecSizes(note(limits.MaxSpecBytes))
		pad := 2*limits.MaxSpecBytes - stored
		stored, sent := plugin.SpecSizes(note(pad))
		require.Equal(t, limits.MaxSpecBytes, stored)
		_, err := mgr.CommitGroup(t.Context(), note(pad), false)
		require.NoError(t, err, "a spec exactly at the limit is accepted")
		grown := fileSize(c.storePath()) - before

		_, err = mgr.CommitGroup(t.Context(), note(pad+1), false)
		require.ErrorContains(t, err, "over the spec size limit of 1048576 bytes")

		// The deepest shape: 64 levels in all, the innermost holding many
		// small arrays (indentation grows with depth).
		deep := strings.Repeat("[", 59) + strings.Repeat("[0],", 3000) + "[0]" + strings.Repeat("]", 59)
		deepSpec := plugin.Spec{ID: "deep-wide", Properties: groupProps(deep)}
		deepStored, deepSent := plugin.SpecSizes(deepSpec)
		_, err = mgr.CommitGroup(t.Context(), deepSpec, false)
		if deepStored <= limits.MaxSpecBytes {
			require.NoError(t, err)
		} else {
			require.ErrorContains(t, err, "over the spec size limit")
		}
		t.Logf("FIGURE largest store a single request can produce: +%d bytes (spec %d bytes as stored, %d as sent; limit %d per spec, %d per store); "+
			"a 64-deep wide spec of %d bytes sent is %d as stored (accepted=%v)",
			grown, stored, sent, limits.MaxSpecBytes, limits.MaxStoreBytes, deepSent, deepStored, err == nil)
		require.NoError(t, mgr.FreeGroup(t.Context(), "largest"))
		if err == nil {
			require.NoError(t, mgr.FreeGroup(t.Context(), "deep-wide"))
		}
	})

	rows := []struct {
		name  string
		props []byte
		want  []string // in the error message
	}{
		{"array 2000 deep (4 KB)", nestedArray(2000), []string{"depth limit of 64 levels", "at byte 64"}},
		{"array 9000 deep (18 KB)", nestedArray(9000), []string{"depth limit of 64 levels"}},
		{"array 9996 deep (the batch poisoner)", nestedArray(9996), []string{"depth limit of 64 levels"}},
		{"object 65 deep", []byte(strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65)), []string{"depth limit of 64 levels"}},
		{"invalid UTF-8 in Properties", []byte("{\"Note\":\"caf\xe9\"}"), []string{"not valid UTF-8 at byte 12"}},
		{"unpaired surrogate escape", []byte(`{"Note":"\ud800"}`), []string{"unpaired UTF-16 surrogate escape at byte 9"}},
		{"3 MB of '<' (18 MB escaped)", []byte(`{"Note":"` + strings.Repeat("<", 3<<20) + `"}`),
			[]string{"as stored", "over the spec size limit of 1048576 bytes", "3145728 characters '<'"}},
		{"properties not JSON", []byte(`{"a":}`), nil}, // refused by the server's parser: -32700
		{"17 MB body", []byte(`"` + strings.Repeat("x", 17<<20) + `"`), []string{"request body exceeds 16777216 bytes"}},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			id := fmt.Sprintf("hostile-%d", i)
			innocent := fmt.Sprintf("innocent-%d", i)
			storeBefore, _ := os.ReadFile(c.storePath())
			idsBefore := storedIDs(t, c.storePath())
			before := statsOf(t, a.mgr.Pid())

			var answer []byte
			var innocentErr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); answer = rawCall(t, a.socket(), commitBody(id, row.props)) }()
			go func() { defer wg.Done(); _, innocentErr = mgr.CommitGroup(t.Context(), faultSpec(innocent), false) }()
			wg.Wait()

			ans := decodeAnswer(t, answer)
			require.NotNil(t, ans.Error, "the hostile commit was accepted: %.200s", answer)
			for _, w := range row.want {
				require.Contains(t, ans.Error.Message, w)
			}
			if len(row.want) > 0 && !strings.Contains(row.name, "body") {
				require.Equal(t, plugin.CodeApplication, ans.Error.Code)
				require.Contains(t, ans.Error.Message, fmt.Sprintf("group %q", id))
			}
			require.NoError(t, innocentErr, "an innocent commit beside the hostile one failed")
			require.False(t, a.mgr.exited(), "the manager died")
			_, err := mgr.Implements(t.Context())
			require.NoError(t, err, "the manager stopped answering")

			idsAfter := storedIDs(t, c.storePath())
			require.False(t, idsAfter[id], "the hostile spec was stored")
			require.True(t, idsAfter[innocent], "the innocent spec was not stored")
			require.Len(t, idsAfter, len(idsBefore)+1, "the store changed beyond the innocent group")
			require.False(t, bytes.Equal(storeBefore, fileBytes(t, c.storePath())))
			require.True(t, a.simRuns(t.Context(), keys(idsAfter)...), "the downstream does not run exactly the store")
			groups, size := strictInspect(t, a.socket())
			after := statsOf(t, a.mgr.Pid())
			t.Logf("ROW %-38s | answer %d %.110q | alive | store: +%s only (%d groups) | innocent OK | ls %d groups %d bytes valid UTF-8 | %s -> %s",
				row.name, ans.Error.Code, ans.Error.Message, innocent, groups, groups, size, before, after)
		})
	}
	require.Equal(t, 0, a.mgr.Stop())
}

// TestHostilePoisonedBatch: innocent commits run concurrently (so that the
// store batches them) beside a client that keeps committing a spec nested
// 9,996 deep, which once failed the shared save and 54 of 87 innocents.
func TestHostilePoisonedBatch(t *testing.T) {
	c, a := hostileNode(t)
	const writers, perWriter = 8, 12
	before := statsOf(t, a.mgr.Pid())
	poison := commitBody("poison", nestedArray(9996))

	stop := make(chan struct{})
	var poisoned atomic.Int64
	var pwg sync.WaitGroup
	for range 2 {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ans := decodeAnswer(t, rawCall(t, a.socket(), poison))
				if ans.Error == nil || !strings.Contains(ans.Error.Message, "depth limit") {
					t.Errorf("poisoner not refused by the depth limit: %+v", ans.Error)
					return
				}
				poisoned.Add(1)
			}
		}()
	}
	var failed atomic.Int64
	var failures sync.Map
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mgr := plugin.NewClient(a.socket(), plugin.ClientOptions{Timeout: faultCallTimeout})
			defer mgr.Close()
			for i := range perWriter {
				id := fmt.Sprintf("innocent-%d-%d", w, i)
				if _, err := mgr.CommitGroup(t.Context(), faultSpec(id), false); err != nil {
					failed.Add(1)
					failures.Store(id, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	pwg.Wait()
	failures.Range(func(k, v any) bool { t.Logf("innocent %s failed: %s", k, v); return true })
	ids := storedIDs(t, c.storePath())
	require.False(t, ids["poison"])
	require.Len(t, ids, writers*perWriter)
	require.False(t, a.mgr.exited())
	groups, _ := strictInspect(t, a.socket())
	t.Logf("FIGURE innocent commits failed beside a poisoner: %d of %d (poisoner refused %d times); stored %d, ls %d; manager %s -> %s",
		failed.Load(), writers*perWriter, poisoned.Load(), len(ids), groups, before, statsOf(t, a.mgr.Pid()))
	require.Zero(t, failed.Load())
	require.NotZero(t, poisoned.Load())
	require.Equal(t, 0, a.mgr.Stop())
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// groupProps is faultSpec's Properties with extra as the instance's "X".
func groupProps(extra string) []byte {
	return []byte(`{"Allocation":{"Size":1},` +
		`"Instance":{"Plugin":"instance-file","Properties":{"Note":"hostile suite","X":` + extra + `}},` +
		`"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Tags":{"suite":"hostile"}}}}`)
}
