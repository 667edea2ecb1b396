package projections

import (
	"sync"

	"github.com/treaty-engine/treaty/projections/redline"
)

// words is redline.Words, remembered: a process that answers many questions
// (the web workspace) redlines the same texts again and again as events
// arrive, most clauses unchanged. The ops it returns are shared: callers
// must not change them.
func words(before, after string) []redline.Op {
	key := before + "\x00" + after
	if ops, ok := redlines.get(key); ok {
		return ops
	}
	ops := redline.Words(before, after)
	if ops == nil {
		ops = []redline.Op{}
	}
	redlines.put(key, ops)
	return ops
}

// redlines remembers the last few thousand redlines, in two generations:
// when the newer fills, the older is dropped and the newer takes its place,
// so that what is used often stays.
var redlines = &memo{max: 4096}

type memo struct {
	mu       sync.Mutex
	max      int
	cur, old map[string][]redline.Op
}

func (m *memo) get(key string) ([]redline.Op, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ops, ok := m.cur[key]; ok {
		return ops, true
	}
	if ops, ok := m.old[key]; ok {
		m.putLocked(key, ops)
		return ops, true
	}
	return nil, false
}

func (m *memo) put(key string, ops []redline.Op) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putLocked(key, ops)
}

func (m *memo) putLocked(key string, ops []redline.Op) {
	if m.cur == nil || len(m.cur) >= m.max {
		m.old, m.cur = m.cur, make(map[string][]redline.Op, m.max)
	}
	m.cur[key] = ops
}
