package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"time"
)

// scrapeGoal: a scrape of /metrics during a takeover of 10,000 groups
// answers within this (issue 11).
const scrapeGoal = time.Second

// scrapeEvery is the pause between two scrapes while a takeover runs.
const scrapeEvery = 20 * time.Millisecond

// metricsAddrRE finds the address a manager logs when it serves metrics.
var metricsAddrRE = regexp.MustCompile(`serving metrics and health.*"address": ?"([^"]+)"`)

// metricsAddr waits until p has logged its --metrics-addr listener.
func metricsAddr(ctx context.Context, p *proc) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(p.output)
		if err == nil {
			if m := metricsAddrRE.FindSubmatch(b); m != nil {
				return string(m[1]), nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("manager logged no metrics address: %s", p.tail())
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// scraper scrapes http://addr/metrics back to back (scrapeEvery apart)
// until stopped, and records how long each full answer took.
type scraper struct {
	cancel context.CancelFunc
	done   chan struct{}
	lat    []time.Duration
	err    error
}

func startScraper(ctx context.Context, addr string) *scraper {
	ctx, cancel := context.WithCancel(ctx)
	s := &scraper{cancel: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			start := time.Now()
			resp, err := client.Get("http://" + addr + "/metrics")
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("scrape: HTTP %s", resp.Status)
				}
			}
			if err != nil {
				if ctx.Err() == nil {
					s.err = err
				}
				return
			}
			s.lat = append(s.lat, time.Since(start))
			if sleep(ctx, scrapeEvery) != nil {
				return
			}
		}
	}()
	return s
}

// stop ends the scraping and returns the latencies.
func (s *scraper) stop() ([]time.Duration, error) {
	s.cancel()
	<-s.done
	return s.lat, s.err
}
