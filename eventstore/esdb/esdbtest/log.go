package esdbtest

import (
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// record is one stored event.
type record struct {
	stream   string
	revision uint64
	id       uuid.UUID
	typ      string
	ctype    string
	created  int64 // .NET ticks (100 ns) since the Unix epoch, as the server sends it
	meta     []byte
	data     []byte
	pos      uint64 // commit and prepare position in $all
}

// eventLog is the double's storage: $all in order, and each stream's events.
// Records are never changed once appended, so a reader may keep a slice of
// them after unlocking.
type eventLog struct {
	mu      sync.Mutex
	all     []*record
	streams map[string][]*record
	changed chan struct{} // closed and replaced on every append: wakes live subscriptions
	nextPos uint64

	// The idempotency window: the IDs of the last window appended events,
	// as the real server's bounded cache of recently committed event IDs.
	window int
	recent map[uuid.UUID]*record
	ring   []*record
	ringAt int
}

func newEventLog(window int) *eventLog {
	if window < 0 {
		window = 0
	}
	return &eventLog{
		streams: map[string][]*record{},
		changed: make(chan struct{}),
		nextPos: 1 << 10, // positions are byte offsets in a real log; they never start at 0
		window:  window,
		recent:  map[uuid.UUID]*record{},
		ring:    make([]*record, window),
	}
}

// proposed is an event as the client proposes it.
type proposed struct {
	id    uuid.UUID
	typ   string
	ctype string
	meta  []byte
	data  []byte
}

// expectation is an append's expected revision as the wire states it.
type expectation struct {
	kind     int // expectAny, expectNoStream, expectStreamExists, expectRevision
	revision uint64
}

const (
	expectAny = iota
	expectNoStream
	expectStreamExists
	expectRevision
)

// outcome is what the server decided about an append.
type outcome struct {
	ok      bool
	current int64  // last revision after the append (or now, when refused); -1: no stream
	pos     uint64 // position of the last event written or found
}

// appendEvents decides and applies an append the way the real server's
// commit check does (IndexWriter.CheckCommit in EventStoreDB):
//
//   - Any / StreamExists: if the first event's ID is among the recently
//     committed events of this stream, the batch is a repeat when all its
//     IDs follow at consecutive revisions (success, nothing written) and
//     refused as WrongExpectedVersion otherwise ("corrupted idempotency");
//     if the first ID is not recent, the batch is written (StreamExists
//     needing the stream to exist). IDs stored elsewhere, or long ago, are
//     not looked for.
//   - NoStream / revision r: if r is behind the stream's last revision, the
//     events after r are compared with the batch's IDs (however old): all
//     equal is a repeat, anything else WrongExpectedVersion; r beyond the
//     last revision is WrongExpectedVersion; r equal to it writes.
func (l *eventLog) appendEvents(stream string, exp expectation, events []proposed) outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	stored := l.streams[stream]
	cur := int64(len(stored)) - 1
	refused := outcome{current: cur}

	switch exp.kind {
	case expectAny, expectStreamExists:
		if r, ok := l.recent[events[0].id]; ok && r.stream == stream {
			last := r
			for i, e := range events {
				rev := r.revision + uint64(i)
				if rev >= uint64(len(stored)) || stored[rev].id != e.id {
					return refused
				}
				last = stored[rev]
			}
			return outcome{ok: true, current: int64(last.revision), pos: last.pos}
		}
		if exp.kind == expectStreamExists && cur < 0 {
			return refused
		}
	default:
		r := int64(-1)
		if exp.kind == expectRevision {
			if exp.revision > uint64(1<<63-1) {
				return refused
			}
			r = int64(exp.revision)
		}
		if r > cur {
			return refused
		}
		if r < cur {
			var last *record
			for i, e := range events {
				rev := r + 1 + int64(i)
				if rev > cur || stored[rev].id != e.id {
					return refused
				}
				last = stored[rev]
			}
			return outcome{ok: true, current: int64(last.revision), pos: last.pos}
		}
	}

	created := time.Now().UnixNano() / 100
	var last *record
	for _, e := range events {
		rec := &record{
			stream: stream, revision: uint64(len(stored)), id: e.id, typ: e.typ, ctype: e.ctype,
			created: created, meta: e.meta, data: e.data, pos: l.nextPos,
		}
		l.nextPos += uint64(64 + len(stream) + len(e.typ) + len(e.meta) + len(e.data))
		stored = append(stored, rec)
		l.all = append(l.all, rec)
		l.remember(rec)
		last = rec
	}
	l.streams[stream] = stored
	close(l.changed)
	l.changed = make(chan struct{})
	return outcome{ok: true, current: int64(last.revision), pos: last.pos}
}

// remember puts rec's ID in the idempotency window, forgetting the oldest.
func (l *eventLog) remember(rec *record) {
	if l.window == 0 {
		return
	}
	if old := l.ring[l.ringAt]; old != nil && l.recent[old.id] == old {
		delete(l.recent, old.id)
	}
	l.ring[l.ringAt] = rec
	l.ringAt = (l.ringAt + 1) % l.window
	l.recent[rec.id] = rec
}

// stream returns a snapshot of a stream's events.
func (l *eventLog) stream(name string) []*record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams[name]
}

// snapshot returns $all as it is now, and a channel closed at the next
// append.
func (l *eventLog) snapshot() ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all, l.changed
}

// streamSnapshot is snapshot for one stream.
func (l *eventLog) streamSnapshot(name string) ([]*record, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.streams[name], l.changed
}

// filter is a $all read's server-side filter.
type filter struct {
	onType   bool // match event types, not stream names
	prefixes []string
	match    func(string) bool // a compiled regex, or nil
}

func (f *filter) accepts(r *record) bool {
	if f == nil {
		return true
	}
	s := r.stream
	if f.onType {
		s = r.typ
	}
	if f.match != nil {
		return f.match(s)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
