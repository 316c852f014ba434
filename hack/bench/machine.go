package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// machine describes where the figures were taken.
type machine struct {
	CPUs       int
	CPUModel   string
	MemTotal   string
	Kernel     string
	GoVersion  string
	LoadStart  string // /proc/loadavg's 1, 5 and 15 minute averages
	LoadEnd    string
	StoreFS    string // file system type of the temp dir, where the stores live
	DockerInfo string
}

// probeMachine reads /proc. A value that cannot be read says so.
func probeMachine(tmp string) machine {
	m := machine{
		CPUs:      runtime.NumCPU(),
		CPUModel:  firstField("/proc/cpuinfo", "model name"),
		MemTotal:  memTotal(),
		Kernel:    strings.TrimSpace(readOr("/proc/sys/kernel/osrelease")),
		GoVersion: runtime.Version(),
		LoadStart: loadAvg(),
		StoreFS:   fsType(tmp),
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(strings.TrimPrefix(string(out), "go version "))
	}
	if out, err := exec.Command("dockerd", "--version").Output(); err == nil {
		m.DockerInfo = strings.TrimSpace(string(out))
	}
	return m
}

func readOr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return string(b)
}

// firstField returns the value of the first "key : value" line of path.
func firstField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	v := firstField("/proc/meminfo", "MemTotal")
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

func loadAvg() string {
	fields := strings.Fields(readOr("/proc/loadavg"))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// fsType finds the mount holding dir in /proc/self/mounts (longest prefix).
func fsType(dir string) string {
	best, typ := "", "unknown"
	for _, line := range strings.Split(readOr("/proc/self/mounts"), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mnt := f[1]
		if (dir == mnt || strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/")) && len(mnt) > len(best) {
			best, typ = mnt, f[2]+" on "+f[0]
		}
	}
	return typ
}
