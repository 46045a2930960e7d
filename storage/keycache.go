package storage

import "sync"

// keyCache keeps decoded incident keys in memory: the engine reads a key per
// incident, and JSON decoding is most of a bbolt point read.
//
// Coherence without holding a lock across bbolt transactions:
//   - a writer calls begin(key) inside its write transaction, before the
//     Put: the entry goes, the key is marked dirty, gen moves;
//   - it calls end(key) once the transaction is over (committed or not):
//     the entry goes again, dirty is cleared, gen moves again;
//   - a reader that missed notes gen before its read transaction and may
//     fill only if gen has not moved and the key is not dirty.
//
// So no fill can carry a value read before a write once that write's end has
// run (gen moved), nor during the write (dirty); reads while a write is in
// flight go to bbolt. A reader never sees a value older than one it saw.
type keyCache struct {
	mu    sync.RWMutex
	gen   uint64
	m     map[string]IncidentKey
	dirty map[string]int
	max   int
}

func newKeyCache(max int) *keyCache {
	return &keyCache{m: make(map[string]IncidentKey), dirty: make(map[string]int), max: max}
}

func (c *keyCache) get(k string) (IncidentKey, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *keyCache) snapshot() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *keyCache) fill(k string, v IncidentKey, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.dirty[k] > 0 {
		return
	}
	if len(c.m) >= c.max {
		for old := range c.m { // evict an arbitrary entry
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}

func (c *keyCache) begin(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, k)
	c.dirty[k]++
}

func (c *keyCache) end(keys []string) {
	if len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, k := range keys {
		delete(c.m, k)
		if c.dirty[k]--; c.dirty[k] <= 0 {
			delete(c.dirty, k)
		}
	}
}
