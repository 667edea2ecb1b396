// Package flight keeps values that are costly to work out: each is worked
// out once however many ask for it at the same time, and the least recently
// used are dropped beyond a budget. The web workspace keeps its answers in
// one; projections.Live its past moments.
package flight

import (
	"context"
	"sync"
)

// Cache keeps values of type V by key. Each value has a version (the head
// it was worked out at, say): asked for at another version, a key is worked
// out again and its older value dropped, so that a key holds one value.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	budget  int
	cost    func(V) int
	size    int
	clock   int
	entries map[K]*entry[V]
}

type entry[V any] struct {
	ready   chan struct{}
	version int
	v       V
	err     error
	cost    int
	used    int
}

// New returns a Cache that holds values of at most budget in all, each
// costing cost(v) (nil: 1, a budget of entries). A value that costs more
// than a quarter of the budget is handed out but not kept.
func New[K comparable, V any](budget int, cost func(V) int) *Cache[K, V] {
	if cost == nil {
		cost = func(V) int { return 1 }
	}
	return &Cache[K, V]{budget: budget, cost: cost, entries: map[K]*entry[V]{}}
}

// Get returns the value of key at version, working it out with make when
// the cache has none. Those who ask while it is worked out wait for it (or
// for their ctx); a failure is handed to them but not kept. make runs for
// whoever asked first: it should not stop when that one's ctx ends.
func (c *Cache[K, V]) Get(ctx context.Context, key K, version int, make func() (V, error)) (V, error) {
	c.mu.Lock()
	c.clock++
	if e, ok := c.entries[key]; ok && e.version == version {
		e.used = c.clock
		c.mu.Unlock()
		select {
		case <-e.ready:
			return e.v, e.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	} else if ok {
		c.drop(key, e)
	}
	e := &entry[V]{ready: makeReady(), version: version, used: c.clock}
	c.entries[key] = e
	c.mu.Unlock()

	v, err := make()

	c.mu.Lock()
	e.v, e.err = v, err
	if c.entries[key] == e {
		if err != nil {
			delete(c.entries, key)
		} else if cost := c.cost(v); cost > c.budget/4 && c.budget >= 4 {
			delete(c.entries, key)
		} else {
			e.cost = cost
			c.size += cost
			c.evict(e)
		}
	}
	c.mu.Unlock()
	close(e.ready)
	return v, err
}

func makeReady() chan struct{} { return make(chan struct{}) }

// drop removes an entry; called with mu held.
func (c *Cache[K, V]) drop(key K, e *entry[V]) {
	c.size -= e.cost
	delete(c.entries, key)
}

// evict drops the least recently used values, but not keep, until the
// cache holds at most its budget; called with mu held.
func (c *Cache[K, V]) evict(keep *entry[V]) {
	for c.size > c.budget {
		var oldest K
		var victim *entry[V]
		for k, e := range c.entries {
			if e != keep && e.cost > 0 && (victim == nil || e.used < victim.used) {
				oldest, victim = k, e
			}
		}
		if victim == nil {
			return
		}
		c.drop(oldest, victim)
	}
}

// Len is the number of values kept or being worked out.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Size is the cost of the values kept.
func (c *Cache[K, V]) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
