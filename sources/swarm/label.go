package swarm

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/infrakit-manager/manager/sources"
)

// maxDecodedBytes bounds the inflated size of a label, so that a small
// hostile value (a "zip bomb") cannot exhaust memory. A 1.5 MiB label of
// indented JSON inflates to well under this.
const maxDecodedBytes = 64 << 20

// EncodeLabel renders cfg as the original stored it in the swarm label:
// base64.StdEncoding (padded) of zlib at the default level of the indented
// JSON of sources.EncodeConfig. The output is deterministic and
// byte-identical to the original's (checked against a captured value).
func EncodeLabel(cfg sources.Config) (string, error) {
	data, err := sources.EncodeConfig(cfg)
	if err != nil {
		return "", err
	}
	return compressLabel(data)
}

// compressLabel turns the config's JSON into the label value.
func compressLabel(data []byte) (string, error) {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write(data); err != nil {
		return "", fmt.Errorf("encode label: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("encode label: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeLabel parses a label value written by EncodeLabel or by the
// original. Every failure wraps sources.ErrCorrupt and says which layer
// (base64, zlib, JSON) is broken. It never panics.
func DecodeLabel(v string) (sources.Config, error) {
	return decodeLabel(v, maxDecodedBytes)
}

// LabelJSON inflates a label value to the global.config JSON it holds
// (for a strict parse, such as etcd import's); errors as DecodeLabel's.
func LabelJSON(v string) ([]byte, error) {
	return inflateLabel(v, maxDecodedBytes)
}

// decodeLabel is DecodeLabel with a bound on the inflated size.
func decodeLabel(v string, maxBytes int) (sources.Config, error) {
	data, err := inflateLabel(v, maxBytes)
	if err != nil {
		return sources.Config{}, err
	}
	cfg, err := sources.DecodeConfig(data)
	if err != nil {
		if errors.Is(err, sources.ErrCorrupt) {
			return sources.Config{}, fmt.Errorf("label JSON: %w", err)
		}
		return sources.Config{}, fmt.Errorf("%w: label JSON: %v", sources.ErrCorrupt, err)
	}
	return cfg, nil
}

// inflateLabel undoes base64 and zlib, bounded by maxBytes.
func inflateLabel(v string, maxBytes int) ([]byte, error) {
	if v == "" {
		return nil, fmt.Errorf("%w: empty label value", sources.ErrCorrupt)
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: label is not standard base64: %v", sources.ErrCorrupt, err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: label is not zlib data: %v", sources.ErrCorrupt, err)
	}
	defer zr.Close()
	// ReadAll reads to the end of the stream, which verifies the checksum.
	data, err := io.ReadAll(io.LimitReader(zr, int64(maxBytes)+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: label zlib stream is damaged: %v", sources.ErrCorrupt, err)
	case len(data) > maxBytes:
		return nil, fmt.Errorf("%w: label inflates to more than %d bytes", sources.ErrCorrupt, maxBytes)
	}
	return data, nil
}

// versionOf is the Version of a label value: a hash of the value itself, so
// that changes to other parts of the cluster spec (which bump the swarm's
// own version) are not conflicts. No label is the empty Version.
func versionOf(v string) sources.Version {
	if v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(v))
	return sources.Version("sha256:" + hex.EncodeToString(sum[:16]))
}
