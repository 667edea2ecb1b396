// Package recbuf holds what the backends' reads share to keep a long read
// cheap: one string per event type, and the events' bytes copied once into
// allocations that neighbouring events share.
package recbuf

// Types shares one string per event type within a read: a stream repeats a
// few types many times, and a string per event would be garbage.
type Types map[string]string

// Intern returns b as a string, the same one each time within t.
func (t Types) Intern(b []byte) string {
	if s, ok := t[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(t) < 1024 { // bounded: a stream of ever-new types gains nothing
		t[s] = s
	}
	return s
}

// ArenaSize is how much event bytes one allocation holds: events share
// allocations, so that a full read costs a few thousand of them instead of
// one per event. An event the caller keeps keeps its arena alive, which
// bounds the waste to ArenaSize per kept event.
const ArenaSize = 16 << 10

// Arena copies the bytes of events into shared allocations.
type Arena struct{ free []byte }

// Copy returns copies of an event's data and metadata, which the caller may
// keep and change: neither has spare capacity, so that appending to one
// never writes into the other or a neighbour's. Both are nil when both are
// empty.
func (a *Arena) Copy(data, meta []byte) ([]byte, []byte) {
	size := len(data) + len(meta)
	if size == 0 {
		return nil, nil
	}
	if len(a.free) < size {
		a.free = make([]byte, max(size, ArenaSize))
	}
	buf := a.free[:size:size]
	a.free = a.free[size:]
	copy(buf, data)
	copy(buf[len(data):], meta)
	return buf[:len(data):len(data)], buf[len(data):]
}
