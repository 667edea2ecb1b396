package storetest

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// TestMemStore runs the suite against memStore, the contract written as
// plainly as possible: the suite must pass it, so that it asks nothing a
// backend's own quirks happen to provide.
func TestMemStore(t *testing.T) {
	Run(t, func(t *testing.T) eventstore.Store { return newMemStore() },
		Reopen(func(t *testing.T, s eventstore.Store) eventstore.Store { return s.(*memStore).reopen() }))
}

// memStore is an in-memory eventstore.Store, and an eventstore.Subscriber.
// Stores made by reopen share their events, as stores on one file do.
type memStore struct {
	*memLog
	closed bool          // guarded by memLog.mu
	done   chan struct{} // closed by Close
}

// memLog is the events that stores share.
type memLog struct {
	mu      sync.Mutex
	streams map[string][]eventstore.RecordedEvent
	ids     map[uuid.UUID]eventstore.RecordedEvent
	changed chan struct{} // closed and replaced at every append
}

func newMemStore() *memStore {
	return &memStore{
		memLog: &memLog{streams: map[string][]eventstore.RecordedEvent{}, ids: map[uuid.UUID]eventstore.RecordedEvent{}, changed: make(chan struct{})},
		done:   make(chan struct{}),
	}
}

// reopen returns another store on m's events.
func (m *memStore) reopen() *memStore {
	return &memStore{memLog: m.memLog, done: make(chan struct{})}
}

func (m *memStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, events ...eventstore.EventData) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return 0, eventstore.ErrClosed
	case ctx.Err() != nil:
		return 0, ctx.Err()
	}
	if err := eventstore.CheckBatch(stream, events); err != nil {
		return 0, err
	}
	stored := m.streams[stream]
	n := uint64(len(stored))
	for i, e := range events {
		first, ok := m.ids[e.ID]
		if !ok {
			continue
		}
		found := eventstore.Stored{Index: i, Stream: first.Stream, Revision: first.Revision}
		for i == 0 && first.Stream == stream && found.Run < len(events) && first.Revision+uint64(found.Run) < n &&
			stored[first.Revision+uint64(found.Run)].ID == events[found.Run].ID {
			found.Run++
		}
		return eventstore.CheckRepeat(stream, exp, events, n, found)
	}
	if !exp.Holds(n) {
		return 0, &eventstore.WrongRevisionError{Stream: stream, Expected: exp, Events: n}
	}
	now := time.Now().UTC()
	for i, e := range events {
		r := eventstore.RecordedEvent{Stream: stream, Revision: n + uint64(i), ID: e.ID, Type: e.Type,
			Data: bytes.Clone(e.Data), Metadata: bytes.Clone(e.Metadata), Created: now}
		stored = append(stored, r)
		m.ids[e.ID] = r
	}
	m.streams[stream] = stored
	close(m.changed)
	m.changed = make(chan struct{})
	return n + uint64(len(events)) - 1, nil
}

func (m *memStore) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		m.mu.Lock()
		closed, events, ok := m.closed, m.streams[stream], len(m.streams[stream]) > 0
		m.mu.Unlock()
		switch {
		case closed:
			yield(eventstore.RecordedEvent{}, eventstore.ErrClosed)
			return
		case ctx.Err() != nil:
			yield(eventstore.RecordedEvent{}, ctx.Err())
			return
		case !ok:
			yield(eventstore.RecordedEvent{}, fmt.Errorf("%s: %w", stream, eventstore.ErrStreamNotFound))
			return
		}
		for _, e := range events[min(from, uint64(len(events))):] {
			if ctx.Err() != nil {
				yield(eventstore.RecordedEvent{}, ctx.Err())
				return
			}
			e.Data, e.Metadata = bytes.Clone(e.Data), bytes.Clone(e.Metadata)
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (m *memStore) Streams(ctx context.Context, prefix string) ([]eventstore.StreamInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, eventstore.ErrClosed
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var out []eventstore.StreamInfo
	for name, events := range m.streams {
		if strings.HasPrefix(name, prefix) {
			out = append(out, eventstore.StreamInfo{Name: name, Events: uint64(len(events))})
		}
	}
	slices.SortFunc(out, func(a, b eventstore.StreamInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
	return nil
}

// Subscribe yields the stored events from revision from on, then waits for
// the next append (by any store on the same events) and yields what it
// added, until ctx is done (no error) or the store is closed (ErrClosed).
func (m *memStore) Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		next := from
		for {
			m.mu.Lock()
			closed, events, changed := m.closed, m.streams[stream], m.changed
			m.mu.Unlock()
			if closed {
				yield(eventstore.RecordedEvent{}, eventstore.ErrClosed)
				return
			}
			for _, e := range events[min(next, uint64(len(events))):] {
				if ctx.Err() != nil {
					return
				}
				e.Data, e.Metadata = bytes.Clone(e.Data), bytes.Clone(e.Metadata)
				if !yield(e, nil) {
					return
				}
				next = e.Revision + 1
			}
			select {
			case <-ctx.Done():
				return
			case <-m.done:
			case <-changed:
			}
		}
	}
}
