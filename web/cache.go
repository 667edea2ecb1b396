package web

import (
	"context"
	"sync"
)

// answers keeps rendered answers (a page's body, the JSON of a view) by a
// key that names the question and the head it was answered at, so that
// fifty readers of the same compare document cost one compare. It holds at
// most max bytes, dropping the least recently used; an answer being worked
// out is worked out once, however many ask for it at the same time.
type answers struct {
	mu      sync.Mutex
	max     int
	size    int
	clock   int
	entries map[string]*answer
}

type answer struct {
	ready chan struct{}
	body  []byte
	err   error
	used  int
}

func newAnswers(max int) *answers { return &answers{max: max, entries: map[string]*answer{}} }

// get returns the answer to key, working it out with make when it has
// none. A failure is returned to those waiting for it but not kept.
func (c *answers) get(ctx context.Context, key string, make func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	c.clock++
	if a, ok := c.entries[key]; ok {
		a.used = c.clock
		c.mu.Unlock()
		select {
		case <-a.ready:
			return a.body, a.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a := &answer{ready: make0(), used: c.clock}
	c.entries[key] = a
	c.mu.Unlock()

	a.body, a.err = make()

	c.mu.Lock()
	if a.err != nil || len(a.body) > c.max/4 {
		// Not kept: a failure is tried again, and an answer too large
		// for the cache would push everything else out.
		if c.entries[key] == a {
			delete(c.entries, key)
		}
	} else {
		c.size += len(a.body)
		c.evict()
	}
	c.mu.Unlock()
	close(a.ready)
	return a.body, a.err
}

// evict drops the least recently used finished answers until the cache
// holds at most max bytes. Called with mu held.
func (c *answers) evict() {
	for c.size > c.max {
		var oldest string
		at := c.clock + 1
		for k, a := range c.entries {
			select {
			case <-a.ready:
			default:
				continue // being worked out
			}
			if a.used < at {
				oldest, at = k, a.used
			}
		}
		if oldest == "" {
			return
		}
		c.size -= len(c.entries[oldest].body)
		delete(c.entries, oldest)
	}
}

func make0() chan struct{} { return make(chan struct{}) }

// values keeps the views that replay the whole log (history, blame, audit,
// every proposal whole) by question, each as of one head: asked at a newer
// head, a question is worked out again and its older answer dropped, so
// that memory holds one answer per question, at most max of them. Each is
// worked out once however many ask for it at the same time.
type values struct {
	mu      sync.Mutex
	max     int
	clock   int
	entries map[string]*value
}

type value struct {
	ready chan struct{}
	head  int
	v     any
	err   error
	used  int
}

func newValues(max int) *values { return &values{max: max, entries: map[string]*value{}} }

func (c *values) get(ctx context.Context, key string, head int, make func() (any, error)) (any, error) {
	c.mu.Lock()
	c.clock++
	if e, ok := c.entries[key]; ok && e.head == head {
		e.used = c.clock
		c.mu.Unlock()
		select {
		case <-e.ready:
			return e.v, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e := &value{ready: make0(), head: head, used: c.clock}
	c.entries[key] = e
	for len(c.entries) > c.max {
		oldest, at := "", c.clock+1
		for k, x := range c.entries {
			if x.used < at && x != e {
				oldest, at = k, x.used
			}
		}
		delete(c.entries, oldest)
	}
	c.mu.Unlock()
	e.v, e.err = make()
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	close(e.ready)
	return e.v, e.err
}
