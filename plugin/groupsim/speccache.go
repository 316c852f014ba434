package groupsim

import "sync"

// Bounds of a specCache: past maxSpecCacheEntries it starts over; larger
// properties are parsed every time.
const (
	maxSpecCacheEntries = 256
	maxSpecCacheBytes   = 16 << 10
)

// specCache remembers parseProps by the properties' bytes: the parse is a
// pure function of them (and of the plugin's instance limit, fixed for a
// Plugin), so a cached parse is the one parsing them again would give.
// Groups committed from one template (a takeover's, a resize's next
// commit aside) parse once. Failed parses are not kept. A nil *specCache
// parses every time; shas serves the parses it does.
type specCache struct {
	mu   sync.Mutex
	m    map[string]cachedParse
	shas shaCache
}

// cachedParse is a parse and the instance limit it was made under.
type cachedParse struct {
	pp           parsedProps
	maxInstances int
}

// parse returns parseProps(raw, maxInstances), cached.
func (c *specCache) parse(raw []byte, maxInstances int) (parsedProps, error) {
	if c == nil {
		return parseProps(raw, maxInstances, nil)
	}
	c.mu.Lock()
	cp, ok := c.m[string(raw)]
	c.mu.Unlock()
	if ok && cp.maxInstances == maxInstances {
		return cp.pp, nil
	}
	pp, err := parseProps(raw, maxInstances, &c.shas)
	if err != nil || len(raw) > maxSpecCacheBytes {
		return pp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxSpecCacheEntries {
		c.m = make(map[string]cachedParse, 16)
	}
	c.m[string(raw)] = cachedParse{pp: pp, maxInstances: maxInstances}
	return pp, nil
}
