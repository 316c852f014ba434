package ops

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/infrakit-manager/manager/workqueue"
)

// BenchmarkScrapeUnderLoad scrapes /metrics over HTTP while 8 goroutines
// record reconciles, downstream calls and queue traffic as fast as they can
// (a takeover of many groups). The figure is the time of one scrape.
func BenchmarkScrapeUnderLoad(b *testing.B) {
	m := NewMetrics(DefaultMetricsOptions())
	q, err := workqueue.New[int](queueOptions(m))
	if err != nil {
		b.Fatal(err)
	}
	defer q.ShutDown()
	s, err := Listen(serverOpts(func(o *ServerOptions) { o.Addr, o.Metrics, o.Health = "127.0.0.1:0", m, &Checks{} }))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Shutdown(b.Context()) }()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q.Add(w*1_000_000 + i%10_000)
				m.ReconcileDone(ResultSuccess, time.Millisecond)
				m.ObserveCall("CommitGroup", "ok", time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for {
			k, shutdown := q.Get()
			if shutdown {
				return
			}
			q.Done(k)
		}
	})
	url := "http://" + s.Addr() + "/metrics"
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	b.StopTimer()
	close(stop)
	q.ShutDown()
	wg.Wait()
}
