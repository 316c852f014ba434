package swarm

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
)

// originalConfig is the config behind the captured label (wire samples §15).
func originalConfig() sources.Config {
	return sources.Config{Groups: map[plugin.ID]sources.Entry{
		"cattle": {
			Plugin:     "group-stateless",
			Properties: json.RawMessage(`{"ID":"cattle","Properties":{"Allocation":{"Size":2}}}`),
		},
	}}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

func TestDecodeLabelReadsTheOriginals(t *testing.T) {
	cfg, err := DecodeLabel(readTestdata(t, "original-label.txt"))
	require.NoError(t, err)
	require.Len(t, cfg.Groups, 1)
	got := cfg.Groups["cattle"]
	require.Equal(t, "group-stateless", got.Plugin)
	require.JSONEq(t, string(originalConfig().Groups["cattle"].Properties), string(got.Properties))
}

// Go's zlib at the default level emits the very bytes the original's did,
// so the label is byte-identical, not just equivalent.
func TestEncodeLabelWritesTheOriginalsBytes(t *testing.T) {
	captured := readTestdata(t, "original-label.txt")
	got, err := EncodeLabel(originalConfig())
	require.NoError(t, err)
	require.Equal(t, captured, got)

	// and what is inside is the original's indented JSON, byte for byte
	raw, err := base64.StdEncoding.DecodeString(got)
	require.NoError(t, err)
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	var inner bytes.Buffer
	_, err = inner.ReadFrom(zr)
	require.NoError(t, err)
	require.Equal(t, readTestdata(t, "original-label.json"), inner.String())
}

func TestEncodeLabelOfEmptyConfig(t *testing.T) {
	v, err := EncodeLabel(sources.Config{})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(v, "eJ"), "zlib at the default level starts with eJ: %s", v)
	cfg, err := DecodeLabel(v)
	require.NoError(t, err)
	require.Empty(t, cfg.Groups)
}

func zlibBase64(t testing.TB, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestDecodeLabelRejectsDamage(t *testing.T) {
	good := readTestdata(t, "original-label.txt")
	raw, err := base64.StdEncoding.DecodeString(good)
	require.NoError(t, err)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 0xff // the Adler-32 checksum

	cases := []struct {
		name  string
		value string
		why   string
	}{
		{"empty", "", "empty label value"},
		{"not base64", "not base64!", "not standard base64"},
		{"url-safe base64", strings.NewReplacer("+", "-", "/", "_").Replace(good), "not standard base64"},
		{"missing padding", strings.TrimRight(base64.StdEncoding.EncodeToString([]byte{1, 2}), "="), "not standard base64"},
		{"base64 of plain JSON", base64.StdEncoding.EncodeToString([]byte(`{"Groups":{}}`)), "not zlib data"},
		{"truncated zlib", base64.StdEncoding.EncodeToString(raw[:len(raw)/2]), "zlib stream is damaged"},
		{"bad checksum", base64.StdEncoding.EncodeToString(flipped), "zlib stream is damaged"},
		{"broken JSON", zlibBase64(t, []byte(`{"Groups": {"a": `)), "label JSON"},
		{"wrong JSON type", zlibBase64(t, []byte(`{"Groups": []}`)), "label JSON"},
		{"trailing JSON", zlibBase64(t, []byte(`{"Groups": {}} {}`)), "trailing data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeLabel(c.value)
			require.ErrorIs(t, err, sources.ErrCorrupt)
			require.ErrorContains(t, err, c.why)
		})
	}
}

func TestDecodeLabelBoundsTheInflatedSize(t *testing.T) {
	const limit = 1 << 20
	bomb := zlibBase64(t, make([]byte, limit+1)) // 1 MiB of zeros in about 1 KiB
	_, err := decodeLabel(bomb, limit)
	require.ErrorIs(t, err, sources.ErrCorrupt)
	require.ErrorContains(t, err, "inflates to more than 1048576 bytes")

	fits := zlibBase64(t, []byte(`{"Groups": {}}`+strings.Repeat(" ", limit-14)))
	_, err = decodeLabel(fits, limit)
	require.NoError(t, err)
}

func TestVersionIsTheValueHash(t *testing.T) {
	require.Equal(t, sources.Version(""), versionOf(""))
	a, b := versionOf("eJxA"), versionOf("eJxB")
	require.NotEqual(t, a, b)
	require.Equal(t, a, versionOf("eJxA"))
	require.True(t, strings.HasPrefix(string(a), "sha256:"))
}

func FuzzDecodeLabel(f *testing.F) {
	f.Add("")
	f.Add("eJ")
	f.Add("eJx0jsEKwjAQRO/9imHO9eKxN0EQb4JfEMpSAktTstuL0n+XUIUE9ZLMzsxb9tkBAC85rYtxwD4DHIO7SuUAvOk6xZkDOJX+wTy4qJixr0o5LZI9ijUwwOu5oO/FfZ38ZQCeVNMYPKb5KwN4j49y5LHxt+6X/qj9L+/2CgAA///tdDlC")
	f.Add(zlibBase64(f, []byte(`{"Groups":{"a":{"Plugin":"p","Properties":{"ID":"a"}}}}`)))
	f.Add(zlibBase64(f, []byte(`{"Groups":{"a":{"Plugin":"p","Properties":null}}}`)))
	f.Add(zlibBase64(f, []byte(`[1,2`)))
	f.Fuzz(func(t *testing.T, v string) {
		// The same decoder as DecodeLabel, with a smaller inflation bound:
		// the fuzzer finds zlib bombs quickly, and inflating each to the
		// production bound of 64 MiB would stall it.
		cfg, err := decodeLabel(v, 1<<20)
		if err != nil {
			require.ErrorIs(t, err, sources.ErrCorrupt)
			return
		}
		// whatever decodes must survive a round trip unchanged
		again, err := EncodeLabel(cfg)
		require.NoError(t, err)
		back, err := DecodeLabel(again)
		require.NoError(t, err)
		first, err := sources.EncodeConfig(cfg)
		require.NoError(t, err)
		second, err := sources.EncodeConfig(back)
		require.NoError(t, err)
		require.Equal(t, string(first), string(second))
	})
}
