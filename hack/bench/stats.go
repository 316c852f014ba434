package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// summary describes a sample of durations.
type summary struct {
	N    int
	Min  time.Duration
	P50  time.Duration
	P99  time.Duration
	Max  time.Duration
	Mean time.Duration
}

// summarize computes nearest-rank percentiles. An empty sample is the zero
// summary.
func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var total time.Duration
	for _, d := range s {
		total += d
	}
	return summary{
		N:    len(s),
		Min:  s[0],
		P50:  percentile(s, 50),
		P99:  percentile(s, 99),
		Max:  s[len(s)-1],
		Mean: total / time.Duration(len(s)),
	}
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of a sorted,
// non-empty sample: the smallest value with at least p% of the sample at or
// below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// ms renders a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 1000:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f s", v/1000)
	}
}

// mib renders bytes in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// percentiles renders "p50 …, p99 …, max … (n=…)".
func (s summary) percentiles() string {
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(s.P50), ms(s.P99), ms(s.Max), s.N)
}
