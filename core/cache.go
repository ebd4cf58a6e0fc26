package core

import "sync"

// cache is a bounded, concurrency-safe map. When full it drops an arbitrary entry: entries are cheap
// to reload and invalidation, not age, keeps them correct.
type cache[K comparable, V any] struct {
	mu  sync.RWMutex
	max int
	m   map[K]V
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{max: max, m: make(map[K]V)}
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *cache[K, V]) put(k K, v V) {
	c.update(k, func(V, bool) (V, bool) { return v, true })
}

// update replaces the entry for k with f(old, present) when f says so.
func (c *cache[K, V]) update(k K, f func(old V, present bool) (V, bool)) {
	c.mu.Lock()
	old, ok := c.m[k]
	if v, replace := f(old, ok); replace {
		if !ok && len(c.m) >= c.max {
			for drop := range c.m {
				delete(c.m, drop)
				break
			}
		}
		c.m[k] = v
	}
	c.mu.Unlock()
}

func (c *cache[K, V]) del(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// delWhere removes every entry for which match is true.
func (c *cache[K, V]) delWhere(match func(V) bool) {
	c.mu.Lock()
	for k, v := range c.m {
		if match(v) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

func (c *cache[K, V]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
