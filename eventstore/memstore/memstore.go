// Package memstore is the event store in memory: a map of streams behind a
// lock, for tests, examples, and the test stores of the projections and the
// command line.
//
// A Store keeps the whole eventstore.Store contract (it passes
// eventstore/storetest unchanged): atomic batches, expected revisions,
// idempotent repeats by event ID across every stream, ErrClosed after
// Close, and the caller's context. It is also an eventstore.Subscriber,
// whose subscriptions are woken at once by every append to the events they
// follow, and an eventstore.Cache. It is safe for concurrent use. Bytes are
// copied in and out: what Append, Read, Subscribe, CachePut and CacheGet
// are given or give back is the caller's to keep and to modify. A Read
// iteration is a snapshot taken when it starts.
//
// It registers itself with eventstore under the scheme "mem", so that
// eventstore.Open(ctx, "mem:NAME") opens the store NAME of this process.
// Stores opened with the same NAME share their events and cache, as stores
// on one file do, and a NAME outlives the stores opened on it; opening a
// NAME that was never opened with eventstore.Create fails with
// eventstore.ErrStoreNotFound, as for a missing file. New makes a store of
// its own, without a name.
//
// It never persists anything: the events live in this process's memory and
// are lost when it exits, and other processes never see them. A NAME's
// events are kept until then, so long-running programs should use New,
// whose events go with the last store on them.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// Scheme is the URI scheme this backend registers with eventstore.
const Scheme = "mem"

func init() {
	eventstore.Register(Scheme, func(ctx context.Context, uri string, cfg eventstore.Config) (eventstore.Store, error) {
		s, err := open(ctx, uri, cfg)
		if err != nil {
			return nil, err // not s: a nil *Store in an interface is not nil
		}
		return s, nil
	})
}

// named holds the logs of the stores opened by name, for the life of the
// process.
var named = struct {
	sync.Mutex
	logs map[string]*memLog
}{logs: map[string]*memLog{}}

// open opens the store that a "mem:NAME" URI names.
func open(ctx context.Context, uri string, cfg eventstore.Config) (*Store, error) {
	_, name, _ := strings.Cut(uri, ":")
	if name == "" {
		return nil, fmt.Errorf("%q names no store: use %s:NAME, e.g. %s:test", uri, Scheme, Scheme)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", uri, err)
	}
	named.Lock()
	defer named.Unlock()
	l, ok := named.logs[name]
	if !ok {
		if !cfg.Create {
			return nil, fmt.Errorf("open %s: no store of that name in this process (a memory store lives in the process that created it): "+
				"open it with eventstore.Create to create it: %w", uri, eventstore.ErrStoreNotFound)
		}
		l = newLog()
		named.logs[name] = l
	}
	return newStore(l, Scheme+":"+name, cfg.ReadOnly), nil
}

// Store is an event store in memory. It implements eventstore.Store,
// eventstore.Subscriber and eventstore.Cache, and is safe for concurrent
// use by several goroutines.
type Store struct {
	log      *memLog
	name     string // as errors show it
	readOnly bool
	closed   atomic.Bool
	done     chan struct{} // closed by Close
}

var (
	_ eventstore.Store      = (*Store)(nil)
	_ eventstore.Subscriber = (*Store)(nil)
	_ eventstore.Cache      = (*Store)(nil)
)

// memLog is what the stores on one log share: the events and the cache.
type memLog struct {
	mu      sync.RWMutex
	streams map[string][]eventstore.RecordedEvent
	ids     map[uuid.UUID]place
	cache   map[string][]byte
	// changed is closed by the next append, or nil when nobody waits.
	changed chan struct{}
}

// place is where an event ID is stored.
type place struct {
	stream   string
	revision uint64
}

func newLog() *memLog {
	return &memLog{streams: map[string][]eventstore.RecordedEvent{}, ids: map[uuid.UUID]place{}, cache: map[string][]byte{}}
}

func newStore(l *memLog, name string, readOnly bool) *Store {
	return &Store{log: l, name: name, readOnly: readOnly, done: make(chan struct{})}
}

// New returns an empty store of its own, open for writing.
func New() *Store { return newStore(newLog(), "memory store", false) }

// Reopen returns another store on s's events and cache, open for
// writing, as a second open of the same file would be: each sees what the
// other appends, and closing one leaves the other open.
func (s *Store) Reopen() *Store { return newStore(s.log, s.name, false) }

// check reports why a call may not start: the store is closed or ctx is
// done.
func (s *Store) check(ctx context.Context, op string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %s: %w", op, s.name, eventstore.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", op, s.name, err)
	}
	return nil
}

// checkWrite is check for a call that writes.
func (s *Store) checkWrite(ctx context.Context, op string) error {
	if err := s.check(ctx, op); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%s: %s was opened read-only: %w", op, s.name, eventstore.ErrReadOnly)
	}
	return nil
}

// Append writes events at the end of stream as eventstore.Store.Append
// specifies, in one step under the log's lock.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (uint64, error) {
	op := "append to " + stream
	if s.closed.Load() {
		return 0, fmt.Errorf("%s: %s: %w", op, s.name, eventstore.ErrClosed)
	}
	if err := eventstore.CheckBatch(stream, events); err != nil {
		return 0, err
	}
	if err := s.checkWrite(ctx, op); err != nil {
		return 0, err
	}
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	stored := l.streams[stream]
	n := uint64(len(stored))
	for i, e := range events {
		if at, ok := l.ids[e.ID]; ok {
			return eventstore.CheckRepeat(stream, expected, events, n, l.found(i, at, events))
		}
	}
	if !expected.Holds(n) {
		return 0, &eventstore.WrongRevisionError{Stream: stream, Expected: expected, Events: n}
	}
	now := time.Now().UTC()
	for i, e := range events {
		rev := n + uint64(i)
		stored = append(stored, eventstore.RecordedEvent{Stream: stream, Revision: rev, ID: e.ID, Type: e.Type,
			Data: bytes.Clone(e.Data), Metadata: bytes.Clone(e.Metadata), Created: now})
		l.ids[e.ID] = place{stream, rev}
	}
	l.streams[stream] = stored
	l.wake()
	return n + uint64(len(events)) - 1, nil
}

// found describes, for eventstore.CheckRepeat, event i of the batch, the
// first whose ID is stored, at at. The caller holds the lock.
func (l *memLog) found(i int, at place, events []eventstore.EventData) eventstore.Stored {
	f := eventstore.Stored{Index: i, Stream: at.stream, Revision: at.revision}
	if i == 0 {
		stored := l.streams[at.stream]
		for f.Run < len(events) && at.revision+uint64(f.Run) < uint64(len(stored)) &&
			stored[at.revision+uint64(f.Run)].ID == events[f.Run].ID {
			f.Run++
		}
	}
	return f
}

// wake wakes the subscriptions waiting for an append. The caller holds the
// lock.
func (l *memLog) wake() {
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// snapshot returns the events of stream and a channel closed by the next
// change.
func (l *memLog) snapshot(stream string) ([]eventstore.RecordedEvent, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{})
	}
	return l.streams[stream], l.changed
}

// Read yields the events of stream from revision from on, in revision
// order, as eventstore.Store.Read specifies, from a snapshot taken when the
// iteration starts. Iteration ends with ctx's error once ctx is done, and
// with ErrClosed once the store is closed.
func (s *Store) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.read)
}

// read yields the events and returns the error to yield last, if any; it
// returns nil once yield has asked to stop.
func (s *Store) read(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "read " + stream
	if err := s.check(ctx, op); err != nil {
		return err
	}
	s.log.mu.RLock()
	events := s.log.streams[stream]
	s.log.mu.RUnlock()
	if len(events) == 0 {
		return fmt.Errorf("%s: %s: %w", op, s.name, eventstore.ErrStreamNotFound)
	}
	_, _, err := s.yieldFrom(ctx, op, events, from, yield)
	return err
}

// yieldFrom yields the events from revision from on, checking ctx and the
// store before each. It returns the revision to yield next and whether the
// iteration goes on; when it does not, err is the error to yield last, nil
// once yield has asked to stop.
func (s *Store) yieldFrom(ctx context.Context, op string, events []eventstore.RecordedEvent, from uint64, yield func(eventstore.RecordedEvent, error) bool) (next uint64, more bool, err error) {
	for next = from; next < uint64(len(events)); next++ {
		if err := s.check(ctx, op); err != nil {
			return next, false, err
		}
		e := events[next]
		if e.Revision != next {
			return next, false, fmt.Errorf("%s: %s: revision %d where %d was due: the stream was tampered with and has a gap: %w",
				op, s.name, e.Revision, next, eventstore.ErrCorrupt)
		}
		e.Data, e.Metadata = bytes.Clone(e.Data), bytes.Clone(e.Metadata)
		if !yield(e, nil) {
			return next + 1, false, nil
		}
	}
	return next, true, nil
}

// Streams lists the streams whose names start with prefix, sorted by name
// in byte order, each with its number of events.
func (s *Store) Streams(ctx context.Context, prefix string) ([]eventstore.StreamInfo, error) {
	if err := s.check(ctx, "list streams"); err != nil {
		return nil, err
	}
	s.log.mu.RLock()
	var out []eventstore.StreamInfo
	for name, events := range s.log.streams {
		if strings.HasPrefix(name, prefix) && len(events) > 0 {
			out = append(out, eventstore.StreamInfo{Name: name, Events: uint64(len(events))})
		}
	}
	s.log.mu.RUnlock()
	slices.SortFunc(out, func(a, b eventstore.StreamInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Close closes the store: calls made after it fail with an error wrapping
// eventstore.ErrClosed, a Read iteration still running ends with that error
// at its next event, and a subscription at once. The events stay for the
// other stores on them. Closing twice is harmless.
func (s *Store) Close() error {
	if !s.closed.Swap(true) {
		close(s.done)
	}
	return nil
}

// Tamper changes the events stored in stream behind the store's back, as
// someone with the file could, for tests of code that must notice a
// doctored log. edit gets a copy of the stream's events and returns what
// the stream is to hold from then on, taken as given, revisions included:
// where they no longer run 0, 1, 2, … Read and Subscribe end with an error
// wrapping eventstore.ErrCorrupt at the gap. The IDs edit drops may be
// appended again; those it adds count as stored at their place in stream.
func (s *Store) Tamper(stream string, edit func([]eventstore.RecordedEvent) []eventstore.RecordedEvent) {
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.streams[stream]
	events := edit(cloneEvents(old))
	for _, e := range old {
		if at := l.ids[e.ID]; at.stream == stream {
			delete(l.ids, e.ID)
		}
	}
	events = cloneEvents(events)
	for i, e := range events {
		if _, ok := l.ids[e.ID]; !ok {
			l.ids[e.ID] = place{stream, uint64(i)}
		}
	}
	l.streams[stream] = events
	l.wake()
}

// cloneEvents copies events, bytes included.
func cloneEvents(events []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	out := slices.Clone(events)
	for i := range out {
		out[i].Data, out[i].Metadata = bytes.Clone(out[i].Data), bytes.Clone(out[i].Metadata)
	}
	return out
}
