package file_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/file"
)

// benchSizes are the stored group counts of the store benchmarks.
var benchSizes = []int{0, 1000, 10000}

// benchEntry is a group as the bench harness (hack/bench) stores it.
func benchEntry(id plugin.ID, gen int) sources.Entry {
	return sources.Entry{Plugin: "group-stateless", Properties: json.RawMessage(fmt.Sprintf(
		`{"ID":%q,"Properties":{"Instance":{"Plugin":"instance-sim","Properties":{"Gen":%d}},`+
			`"Flavor":{"Plugin":"flavor-vanilla","Properties":{"Tags":{"tier":"bench"}}},"Allocation":{"Size":1}}}`, id, gen))}
}

func benchConfig(n int) sources.Config {
	cfg := sources.Config{Groups: make(map[plugin.ID]sources.Entry, n+1)}
	for i := range n {
		id := plugin.ID(fmt.Sprintf("g%05d", i))
		cfg.Groups[id] = benchEntry(id, 0)
	}
	return cfg
}

// benchStore returns a store holding n groups, written by someone else
// (as the harness does), and loaded once.
func benchStore(b *testing.B, n int) (*file.Store, sources.Config, sources.Version) {
	b.Helper()
	dir := b.TempDir()
	data, err := sources.EncodeConfig(benchConfig(n))
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(filepath.Join(dir, "global.config"), data, 0o600))
	opts := file.DefaultStoreOptions()
	opts.Dir = dir
	s, err := file.NewStore(opts)
	require.NoError(b, err)
	cfg, ver, err := s.Load(b.Context())
	require.NoError(b, err)
	return s, cfg, ver
}

// BenchmarkFileStoreSave: one client re-commits one group (as the harness's
// commit rows do) with n other groups stored. prepare-µs is the encode and
// the temp file's write and fsync, commit-µs the lock, version check,
// rename and directory fsync.
func BenchmarkFileStoreSave(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			s, cfg, ver := benchStore(b, n)
			var prepare, commit time.Duration
			gen := 0
			for b.Loop() {
				gen++
				next := sources.Config{Groups: make(map[plugin.ID]sources.Entry, len(cfg.Groups)+1)}
				for id, e := range cfg.Groups {
					next.Groups[id] = e
				}
				next.Groups["c00"] = benchEntry("c00", gen)
				t0 := time.Now()
				p, err := s.Prepare(b.Context(), next, ver)
				require.NoError(b, err)
				t1 := time.Now()
				ver, err = p.Commit(b.Context())
				require.NoError(b, err)
				prepare += t1.Sub(t0)
				commit += time.Since(t1)
				cfg = next
			}
			b.ReportMetric(float64(prepare.Microseconds())/float64(b.N), "prepare-µs/op")
			b.ReportMetric(float64(commit.Microseconds())/float64(b.N), "commit-µs/op")
		})
	}
}

// BenchmarkFileStoreLoad: Load of an unchanged file (what InspectGroups
// and every resync cost).
func BenchmarkFileStoreLoad(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			s, _, _ := benchStore(b, n)
			for b.Loop() {
				cfg, _, err := s.Load(b.Context())
				require.NoError(b, err)
				require.Len(b, cfg.Groups, n)
			}
		})
	}
}

// BenchmarkFileStoreLoadChanged: Load of a file someone else replaced
// (read, decode, encode every group): a takeover's or a hand edit's cost.
func BenchmarkFileStoreLoadChanged(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			s, _, _ := benchStore(b, n)
			a, err := os.ReadFile(s.Path())
			require.NoError(b, err)
			other := benchConfig(n)
			other.Groups["c00"] = benchEntry("c00", 1)
			c, err := sources.EncodeConfig(other)
			require.NoError(b, err)
			tmp := s.Path() + ".edit"
			flip := false
			for b.Loop() {
				b.StopTimer()
				flip = !flip
				data := a
				if flip {
					data = c
				}
				require.NoError(b, os.WriteFile(tmp, data, 0o600))
				require.NoError(b, os.Rename(tmp, s.Path()))
				b.StartTimer()
				_, _, err := s.Load(b.Context())
				require.NoError(b, err)
			}
		})
	}
}

// BenchmarkEncodeConfig is the whole-file encode every save paid before
// encodings were kept, for comparison.
func BenchmarkEncodeConfig(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			cfg := benchConfig(n)
			for b.Loop() {
				_, err := sources.EncodeConfig(cfg)
				require.NoError(b, err)
			}
		})
	}
}

// BenchmarkDurableReplace is the floor under a save: write a file of the
// store's size, fsync it, rename it over the old one, fsync the directory.
func BenchmarkDurableReplace(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			data, err := sources.EncodeConfig(benchConfig(n))
			require.NoError(b, err)
			dir := b.TempDir()
			path := filepath.Join(dir, "file")
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				f, err := os.CreateTemp(dir, "tmp")
				require.NoError(b, err)
				_, err = f.Write(data)
				require.NoError(b, err)
				require.NoError(b, f.Sync())
				require.NoError(b, f.Close())
				require.NoError(b, os.Rename(f.Name(), path))
				d, err := os.Open(dir)
				require.NoError(b, err)
				require.NoError(b, d.Sync())
				require.NoError(b, d.Close())
			}
		})
	}
}
