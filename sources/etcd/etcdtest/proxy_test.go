package etcdtest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// echoServer answers each line with the same line until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestFreezeProxy(t *testing.T) {
	p, err := NewFreezeProxy(echoServer(t))
	require.NoError(t, err)
	defer p.Close()
	c, err := net.Dial("tcp", strings.TrimPrefix(p.URL(), "http://"))
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string, within time.Duration) (string, error) {
		require.NoError(t, c.SetDeadline(time.Now().Add(within)))
		if _, err := c.Write([]byte(msg + "\n")); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}

	got, err := roundTrip("one", 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "one\n", got)

	p.Freeze()
	_, err = roundTrip("two", 200*time.Millisecond)
	var ne net.Error
	require.ErrorAs(t, err, &ne, "a frozen proxy must not forward")
	require.True(t, ne.Timeout())

	p.Thaw() // the held bytes flow on: the frozen line arrives first
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	got, err = r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "two\n", got)
	got, err = roundTrip("three", 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "three\n", got)
}
