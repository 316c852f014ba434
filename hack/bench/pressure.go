package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// pressure is a reading of the kernel's pressure stall information: the
// cumulative time during which at least one runnable task waited for a CPU,
// and at least one task waited for I/O. Absent on kernels without PSI.
type pressure struct {
	at      time.Time
	cpu, io time.Duration
	ok      bool
}

func readPressure() pressure {
	cpu, err1 := psiSomeTotal("/proc/pressure/cpu")
	io, err2 := psiSomeTotal("/proc/pressure/io")
	return pressure{at: time.Now(), cpu: cpu, io: io, ok: err1 == nil && err2 == nil}
}

// psiSomeTotal returns the "some … total=<µs>" figure of a PSI file.
func psiSomeTotal(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return parsePSISome(string(b))
}

func parsePSISome(s string) (time.Duration, error) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "some" {
			continue
		}
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "total="); ok {
				us, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return 0, fmt.Errorf("psi: %w", err)
				}
				return time.Duration(us) * time.Microsecond, nil
			}
		}
	}
	return 0, fmt.Errorf("psi: no some total")
}

// condition is what the machine went through during one section.
type condition struct {
	Section string
	Wall    time.Duration
	Load    string // load average at the section's start
	CPU, IO string // share of the section's time with a task stalled on CPU, on I/O
}

// conditionSince describes the time since start.
func conditionSince(section, load string, start pressure) condition {
	end := readPressure()
	c := condition{Section: section, Wall: end.at.Sub(start.at), Load: load, CPU: "unknown", IO: "unknown"}
	if start.ok && end.ok && c.Wall > 0 {
		c.CPU = fmt.Sprintf("%.0f%%", 100*float64(end.cpu-start.cpu)/float64(c.Wall))
		c.IO = fmt.Sprintf("%.0f%%", 100*float64(end.io-start.io)/float64(c.Wall))
	}
	return c
}
