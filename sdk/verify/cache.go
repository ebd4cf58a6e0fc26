package verify

import (
	"sync"
)

const cacheShards = 16

// cacheEntry is a value whose signature, issuer and audience have been verified. Time, revocation
// and staleness checks are never cached.
type cacheEntry struct {
	claims *Claims
	key    *key
}

// valueCache maps the SHA-256 of a token value to its verified claims. It is sharded to keep
// concurrent Verify calls apart, and each shard evicts its oldest insertion when full.
type valueCache struct {
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu   sync.RWMutex
	m    map[[32]byte]cacheEntry
	ring [][32]byte
	used []bool
	next int
}

func newValueCache(size int) *valueCache {
	if size <= 0 {
		return nil
	}
	per := max(size/cacheShards, 1)
	c := &valueCache{}
	for i := range c.shards {
		c.shards[i] = cacheShard{
			m:    make(map[[32]byte]cacheEntry, per),
			ring: make([][32]byte, per),
			used: make([]bool, per),
		}
	}
	return c
}

func (c *valueCache) get(h *[32]byte) (cacheEntry, bool) {
	if c == nil {
		return cacheEntry{}, false
	}
	s := &c.shards[h[0]%cacheShards]
	s.mu.RLock()
	e, ok := s.m[*h]
	s.mu.RUnlock()
	return e, ok
}

func (c *valueCache) put(h *[32]byte, e cacheEntry) {
	if c == nil {
		return
	}
	s := &c.shards[h[0]%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[*h]; ok {
		s.m[*h] = e
		return
	}
	if s.used[s.next] {
		delete(s.m, s.ring[s.next])
	}
	s.ring[s.next], s.used[s.next] = *h, true
	s.next = (s.next + 1) % len(s.ring)
	s.m[*h] = e
}

// dropKeys removes every entry verified with one of keys.
func (c *valueCache) dropKeys(keys []*key) {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for h, e := range s.m {
			for _, k := range keys {
				if e.key == k {
					delete(s.m, h)
					break
				}
			}
		}
		s.mu.Unlock()
	}
}

func (c *valueCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
