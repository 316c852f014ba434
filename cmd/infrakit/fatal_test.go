package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFatalLine(t *testing.T) {
	now := time.Date(2026, 11, 22, 6, 12, 53, 0, time.UTC)
	cases := []struct {
		msg  string
		want string
	}{
		{"not-a-leader", `time="2026-11-22T06:12:53Z" level=fatal msg=not-a-leader`},
		{"Group 'nosuch' is not being watched", `time="2026-11-22T06:12:53Z" level=fatal msg="Group 'nosuch' is not being watched"`},
		{"a/b@c^d+e_f.g", `time="2026-11-22T06:12:53Z" level=fatal msg=a/b@c^d+e_f.g`},
		{"", `time="2026-11-22T06:12:53Z" level=fatal msg=""`},
		{"say \"hi\"\nnext", `time="2026-11-22T06:12:53Z" level=fatal msg="say \"hi\"\nnext"`},
		{"a=b", `time="2026-11-22T06:12:53Z" level=fatal msg="a=b"`},
	}
	for _, c := range cases {
		t.Run(c.msg, func(t *testing.T) {
			require.Equal(t, c.want, fatalLine(now, c.msg))
		})
	}
}
