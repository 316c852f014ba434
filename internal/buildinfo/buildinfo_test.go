package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFill(t *testing.T) {
	bi := &debug.BuildInfo{
		Main:     debug.Module{Version: "v0.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-30T12:00:00Z"}},
	}
	cases := []struct {
		name string
		in   Info
		bi   *debug.BuildInfo
		want Info
	}{
		{"ldflags win", Info{Version: "0.2.0", Commit: "c", Date: "d"}, bi, Info{Version: "0.2.0", Commit: "c", Date: "d"}},
		{"go install", Info{}, bi, Info{Version: "v0.2.0", Commit: "abc123", Date: "2026-11-30T12:00:00Z"}},
		{"devel build without vcs", Info{}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Info{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, fill(c.in, c.bi))
		})
	}
}

func TestGet_Defaults(t *testing.T) {
	i := Get()
	require.Equal(t, runtime.Version(), i.GoVersion)
	require.NotEmpty(t, i.Version)
	require.NotEmpty(t, i.Commit)
	require.NotEmpty(t, i.Date)
	require.Contains(t, i.String("x"), "  version: "+i.Version+"\n")
}
