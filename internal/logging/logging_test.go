package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNew_Levels(t *testing.T) {
	cases := []struct {
		level            int
		info, v1, v5, er bool
	}{
		{0, false, false, false, false},
		{2, false, false, false, true},
		{3, false, false, false, true},
		{4, true, false, false, true},
		{5, true, true, true, true},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		log, flush, err := New(c.level, JSON, &buf)
		require.NoError(t, err)
		log.Info("info")
		log.V(1).Info("v1")
		log.V(5).Info("v5")
		log.Error(nil, "er")
		flush()
		out := buf.String()
		require.Equal(t, c.info, strings.Contains(out, `"msg":"info"`), "level %d info", c.level)
		require.Equal(t, c.v1, strings.Contains(out, `"msg":"v1"`), "level %d v1", c.level)
		require.Equal(t, c.v5, strings.Contains(out, `"msg":"v5"`), "level %d v5", c.level)
		require.Equal(t, c.er, strings.Contains(out, `"msg":"er"`), "level %d error", c.level)
	}
}

func TestNew_Formats(t *testing.T) {
	var buf bytes.Buffer
	log, flush, err := New(4, JSON, &buf)
	require.NoError(t, err)
	log.Info("listening", "path", "/x")
	flush()
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "/x", line["path"])

	buf.Reset()
	log, flush, err = New(4, Console, &buf)
	require.NoError(t, err)
	log.Info("listening", "path", "/x")
	flush()
	require.Contains(t, buf.String(), "info\tlistening\t{\"path\": \"/x\"}")

	_, _, err = New(6, Console, &buf)
	require.EqualError(t, err, "--log must be between 0 and 5, got 6")
	_, _, err = New(4, "xml", &buf)
	require.ErrorContains(t, err, "--log-format")
}

func TestNew_LevelNamesAndUniqueKeys(t *testing.T) {
	var buf bytes.Buffer
	log, flush, err := New(5, Console, &buf)
	require.NoError(t, err)
	log.V(2).Info("deep")
	log.V(5).Info("deeper")
	flush()
	require.NotContains(t, buf.String(), "Level(")
	require.Equal(t, 2, strings.Count(buf.String(), "\tdebug\t"))

	buf.Reset()
	log, flush, err = New(5, JSON, &buf)
	require.NoError(t, err)
	l := log.WithName("loop").WithValues("group", "a", "reconcileID", 1)
	l.WithValues("group", "b", "action", "commit").Info("committed", "group", "c", "term", 3)
	l.Error(errors.New("boom"), "failed", "reconcileID", 2)
	flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	for _, line := range lines {
		require.Equal(t, 1, strings.Count(line, `"group":`), line)
		require.Equal(t, 1, strings.Count(line, `"reconcileID":`), line)
	}
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	require.Equal(t, "c", first["group"])
	require.Equal(t, "commit", first["action"])
	require.Equal(t, "loop", first["logger"])
	require.Equal(t, 2.0, second["reconcileID"])
	require.Equal(t, "boom", second["error"])
}

func TestMerge(t *testing.T) {
	base := []any{"a", 1, "b", 2}
	require.Equal(t, []any{"a", 1, "b", 3, "c", 4}, merge(base, []any{"b", 3, "c", 4}))
	require.Equal(t, []any{"a", 1, "b", 2}, base, "base untouched")
	require.Equal(t, []any{"a", 1, "b", 2, "odd"}, merge(base, []any{"odd"}))
}

// TestWarn: a warning is a warn line, shown at --log 3 and above with the
// logger's name and values; at --log 2 (errors only) it is not written.
func TestWarn(t *testing.T) {
	var buf bytes.Buffer
	log, flush, err := New(3, JSON, &buf)
	require.NoError(t, err)
	Warn(log.WithName("tcp").WithValues("addr", "10.0.0.1:1"), "plaintext tcp", "addr", "10.0.0.2:2")
	log.Info("not at level 3")
	flush()
	var line map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line), buf.String())
	require.Equal(t, "warn", line["level"])
	require.Equal(t, "plaintext tcp", line["msg"])
	require.Equal(t, "tcp", line["logger"])
	require.Equal(t, "10.0.0.2:2", line["addr"])

	buf.Reset()
	log, flush, err = New(2, JSON, &buf)
	require.NoError(t, err)
	Warn(log, "hidden")
	flush()
	require.Empty(t, buf.String())
}
