package groupsim

import (
	"encoding/binary"
	"sync"
)

// maxSHACacheEntries bounds a shaCache: past it the cache starts over.
// Groups mostly share a few configurations (the hash is what tells them
// apart), so a small cache holds them all.
const maxSHACacheEntries = 256

// shaCache remembers configSHA by the bytes it depends on: the plugin names
// and raw properties of Instance and Flavor. configSHA is a pure function
// of those (a stable re-encoding of them, then sha1), so a cached hash is
// the one computing it again would give; a commit whose configuration was
// seen before skips the re-encoding. A nil *shaCache computes every time.
type shaCache struct {
	mu  sync.Mutex
	m   map[string]string
	key []byte // scratch for the key, under mu
}

// sum returns configSHA(p), cached.
func (c *shaCache) sum(p properties) (string, error) {
	if c == nil {
		return configSHA(p)
	}
	c.mu.Lock()
	c.key = appendRefKey(appendRefKey(c.key[:0], p.Instance), p.Flavor)
	sha, ok := c.m[string(c.key)]
	c.mu.Unlock()
	if ok {
		return sha, nil
	}
	sha, err := configSHA(p)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSHACacheEntries {
		c.m = make(map[string]string, 16)
	}
	c.key = appendRefKey(appendRefKey(c.key[:0], p.Instance), p.Flavor)
	c.m[string(c.key)] = sha
	return sha, nil
}

// appendRefKey appends r unambiguously: length-prefixed plugin name, then
// whether properties are present and their length-prefixed raw bytes.
func appendRefKey(b []byte, r pluginRef) []byte {
	b = binary.AppendUvarint(b, uint64(len(r.Plugin)))
	b = append(b, r.Plugin...)
	if r.Properties == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(*r.Properties)))
	return append(b, *r.Properties...)
}
