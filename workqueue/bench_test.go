package workqueue_test

import (
	"sync/atomic"
	"testing"

	"github.com/infrakit-manager/manager/workqueue"
)

// BenchmarkAddGetDone measures one Add, Get and Done round trip on one
// goroutine, over 1024 distinct keys. Run with
// go test -run '^$' -bench AddGetDone ./workqueue/ to see ns/op.
func BenchmarkAddGetDone(b *testing.B) {
	q, err := workqueue.New[int](workqueue.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer q.ShutDown()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.Add(i & 1023)
		k, shutdown := q.Get()
		if shutdown {
			b.Fatal("queue shut down")
		}
		q.Done(k)
	}
}

// BenchmarkAddGetDoneParallel is the same round trip from GOMAXPROCS
// goroutines sharing one queue; each adds its own keys, so every Get is
// matched by an Add and none blocks forever.
func BenchmarkAddGetDoneParallel(b *testing.B) {
	q, err := workqueue.New[int64](workqueue.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer q.ShutDown()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q.Add(next.Add(1))
			k, shutdown := q.Get()
			if shutdown {
				b.Error("queue shut down")
				return
			}
			q.Done(k)
		}
	})
}
