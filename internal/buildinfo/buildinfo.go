package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the Makefile:
//
//	-X github.com/infrakit-manager/manager/internal/buildinfo.version=$(cat VERSION)
//	-X github.com/infrakit-manager/manager/internal/buildinfo.commit=…
//	-X github.com/infrakit-manager/manager/internal/buildinfo.date=…
var (
	version string
	commit  string
	date    string
)

// Info describes the running build.
type Info struct {
	Version   string // release version, e.g. 0.2.0
	Commit    string // git commit
	Date      string // build date, RFC 3339 UTC
	GoVersion string
}

// Get returns the running build's Info.
func Get() Info {
	i := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		i = fill(i, bi)
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	if i.Date == "" {
		i.Date = "unknown"
	}
	return i
}

// fill completes i from the toolchain's build information.
func fill(i Info, bi *debug.BuildInfo) Info {
	if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && i.Commit == "":
			i.Commit = s.Value
		case s.Key == "vcs.time" && i.Date == "":
			i.Date = s.Value
		}
	}
	return i
}

// String is the text of a `version` command for program name.
func (i Info) String(name string) string {
	return fmt.Sprintf("%s\n  version: %s\n  commit:  %s\n  built:   %s\n  go:      %s\n", name, i.Version, i.Commit, i.Date, i.GoVersion)
}
