package etcd

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/etcd/etcdtest"
	"github.com/infrakit-manager/manager/sources/sourcestest"
)

// BenchmarkCommit measures one controller-style commit (Load the whole
// config, Clone it, change one group, Save the whole config, fenced) with 10
// and 10,000 groups stored, and how long a new Store takes to load them all
// (the takeover cost). Figures: p50-ms and p99-ms per commit, save-p50-ms
// (the Save alone: diff and one Txn), list-ms.
func BenchmarkCommit(b *testing.B) {
	cli := newClient(b)
	for _, stored := range []int{10, 10000} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			p := testPrefix(b, cli)
			l := newLeadership(b, cli, p, "bench")
			requireLeader(b, l, 5*time.Second)
			s := newStore(b, cli, p, l)
			ctx := etcdtest.Context(b)
			cfg := sourcestest.SampleConfig()
			for i := range stored {
				id := plugin.ID(fmt.Sprintf("group-%05d", i))
				cfg.Groups[id] = sourcestest.SampleEntry(id)
			}
			_, err := Import(ctx, s, cfg, DefaultBatch())
			require.NoError(b, err)

			start := time.Now()
			fresh := newStore(b, cli, p, nil)
			loaded, _, err := fresh.Load(ctx)
			require.NoError(b, err)
			require.Len(b, loaded.Groups, stored)
			list := time.Since(start)

			took := make([]time.Duration, 0, b.N)
			saves := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := plugin.ID(fmt.Sprintf("group-%05d", i%stored))
				t0 := time.Now()
				cfg, ver, err := s.Load(ctx)
				if err != nil {
					b.Fatal(err)
				}
				next := cfg.Clone()
				next.Groups[id] = sources.Entry{Plugin: "group-stateless",
					Properties: []byte(fmt.Sprintf(`{"ID":%q,"Properties":{"Allocation":{"Size":%d}}}`, id, i))}
				t1 := time.Now()
				if _, err := s.Save(ctx, next, ver); err != nil {
					b.Fatal(err)
				}
				saves = append(saves, time.Since(t1))
				took = append(took, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			sort.Slice(saves, func(i, j int) bool { return saves[i] < saves[j] })
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
			b.ReportMetric(ms(took[len(took)*99/100]), "p99-ms")
			b.ReportMetric(ms(saves[len(saves)/2]), "save-p50-ms")
			b.ReportMetric(ms(list), "list-ms")
		})
	}
}
