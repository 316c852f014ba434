package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSummarize(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // reversed on purpose
	}
	cases := []struct {
		name string
		in   []time.Duration
		want summary
	}{
		{"empty", nil, summary{}},
		{"one", []time.Duration{3 * time.Millisecond}, summary{
			N: 1, Min: 3 * time.Millisecond, P50: 3 * time.Millisecond, P99: 3 * time.Millisecond,
			Max: 3 * time.Millisecond, Mean: 3 * time.Millisecond,
		}},
		{"hundred", hundred, summary{
			N: 100, Min: time.Millisecond, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond,
			Max: 100 * time.Millisecond, Mean: 50500 * time.Microsecond,
		}},
		{"four", []time.Duration{4, 1, 3, 2}, summary{N: 4, Min: 1, P50: 2, P99: 4, Max: 4, Mean: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, summarize(c.in))
		})
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	summarize(in)
	require.Equal(t, []time.Duration{3, 1, 2}, in)
}

func TestMs(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want string
	}{
		{1500 * time.Microsecond, "1.50 ms"},
		{42 * time.Millisecond, "42.0 ms"},
		{2500 * time.Millisecond, "2.50 s"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, ms(c.in))
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tinfrakit-manager\nVmPeak:\t  9999 kB\nVmRSS:\t   12345 kB\nThreads:\t9\n"
	got, err := parseStatusKB(strings.NewReader(status), "VmRSS")
	require.NoError(t, err)
	require.Equal(t, int64(12345*1024), got)
	got, err = parseStatusKB(strings.NewReader(status), "VmPeak")
	require.NoError(t, err)
	require.Equal(t, int64(9999*1024), got)

	_, err = parseStatusKB(strings.NewReader("Name:\tx\n"), "VmRSS")
	require.ErrorContains(t, err, "no VmRSS")
	_, err = parseStatusKB(strings.NewReader("VmRSS:\tlots kB\n"), "VmRSS")
	require.Error(t, err)
}

func TestParseStatCPU(t *testing.T) {
	stat := "4242 (infrakit manager) S 1 4242 4242 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 9 0 100 0 0"
	got, err := parseStatCPU(stat)
	require.NoError(t, err)
	require.Equal(t, 1750*time.Millisecond, got)

	_, err = parseStatCPU("4242 no parenthesis")
	require.Error(t, err)
	_, err = parseStatCPU("1 (x) S 1 2")
	require.Error(t, err)
}
