package projections

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// memStore is a minimal in-memory eventstore.Store with a cache, so that
// tests can store events the rules would never write and watch checkpoints.
type memStore struct {
	mu      sync.Mutex
	streams map[string][]eventstore.RecordedEvent
	cache   map[string][]byte
	gets    int
}

func newMemStore() *memStore {
	return &memStore{streams: map[string][]eventstore.RecordedEvent{}, cache: map[string][]byte{}}
}

func (m *memStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs := m.streams[stream]
	if !expected.Holds(uint64(len(evs))) {
		return 0, &eventstore.WrongRevisionError{Stream: stream, Expected: expected, Events: uint64(len(evs))}
	}
	for _, e := range events {
		evs = append(evs, eventstore.RecordedEvent{Stream: stream, Revision: uint64(len(evs)), ID: e.ID, Type: e.Type,
			Data: e.Data, Metadata: e.Metadata, Created: time.Now()})
	}
	m.streams[stream] = evs
	return uint64(len(evs) - 1), nil
}

func (m *memStore) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		m.mu.Lock()
		evs := m.streams[stream]
		m.mu.Unlock()
		if len(evs) == 0 {
			yield(eventstore.RecordedEvent{}, fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream))
			return
		}
		for _, e := range evs[min(int(from), len(evs)):] {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func (m *memStore) Streams(ctx context.Context, prefix string) ([]eventstore.StreamInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []eventstore.StreamInfo
	for name, evs := range m.streams {
		if strings.HasPrefix(name, prefix) {
			out = append(out, eventstore.StreamInfo{Name: name, Events: uint64(len(evs))})
		}
	}
	return out, nil
}

func (m *memStore) Close() error { return nil }

func (m *memStore) CacheGet(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	return m.cache[key], nil
}

func (m *memStore) CacheKeys(ctx context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.cache {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (m *memStore) CacheDelete(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.cache, key)
	return nil
}

func (m *memStore) CachePut(ctx context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cache[key] = value
	return nil
}

// session writes a negotiation through the rules into a store, the way the
// command line does, with a clock that ticks a minute per act.
type session struct {
	t      *testing.T
	store  *memStore
	treaty string
	s      domain.State
	at     time.Time
	ids    int
}

func newSession(t *testing.T) *session {
	t.Helper()
	ss := &session{t: t, store: newMemStore(), treaty: "berlin", at: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}
	ss.do("DE", domain.OpenTreaty{Treaty: "berlin", Title: "Berlin Framework", Parties: []domain.Party{
		{Code: "UA", Name: "Ukraine", Role: domain.RoleParty},
		{Code: "US", Name: "United States", Role: domain.RoleParty},
		{Code: "EU", Name: "European Union", Role: domain.RoleParty},
		{Code: "DE", Name: "Germany", Role: domain.RoleObserver},
	}})
	return ss
}

func (ss *session) do(party string, c domain.Command) []domain.Event {
	ss.t.Helper()
	evs, err := domain.Decide(&ss.s, c)
	if err != nil {
		ss.t.Fatalf("Decide(%#v): %v", c, err)
	}
	ss.at = ss.at.Add(time.Minute)
	var batch []eventstore.EventData
	for _, e := range evs {
		typ, data, _ := domain.Encode(e)
		meta, _ := domain.EncodeMeta(domain.Meta{Party: party, Author: "author-" + party, Round: ss.s.RoundOf(e), Time: ss.at})
		batch = append(batch, eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: meta})
		if err := ss.s.Evolve(e); err != nil {
			ss.t.Fatal(err)
		}
	}
	if _, err := ss.store.Append(context.Background(), Stream(ss.treaty), eventstore.Any(), batch...); err != nil {
		ss.t.Fatal(err)
	}
	return evs
}

// raw appends an event as given, rules or no rules.
func (ss *session) raw(e domain.Event, meta domain.Meta) {
	ss.t.Helper()
	typ, data, _ := domain.Encode(e)
	m, _ := domain.EncodeMeta(meta)
	if _, err := ss.store.Append(context.Background(), Stream(ss.treaty), eventstore.Any(),
		eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: m}); err != nil {
		ss.t.Fatal(err)
	}
}

func (ss *session) table(party, clause, text string, opts ...func(*domain.Table)) string {
	ss.t.Helper()
	ss.ids++
	id := fmt.Sprintf("%04d0000-0000-4000-8000-000000000000", ss.ids)
	c := domain.Table{Proposal: id, Clause: clause, Party: party, Text: text}
	for _, o := range opts {
		o(&c)
	}
	ss.do(party, c)
	return id
}

func (ss *session) accept(id string, parties ...string) {
	ss.t.Helper()
	for _, p := range parties {
		ss.do(p, domain.Accept{Proposal: id, Party: p})
	}
}

// agree tables text as UA and has US and EU accept it.
func (ss *session) agree(clause, text string, opts ...func(*domain.Table)) string {
	ss.t.Helper()
	id := ss.table("UA", clause, text, opts...)
	ss.accept(id, "US", "EU")
	return id
}

func (ss *session) openRound()  { ss.do("DE", domain.OpenRound{Party: "DE"}) }
func (ss *session) closeRound() { ss.do("DE", domain.CloseRound{Party: "DE"}) }

func withHeading(h string) func(*domain.Table)  { return func(c *domain.Table) { c.Heading = &h } }
func placedAfter(id string) func(*domain.Table) { return func(c *domain.Table) { c.After = id } }
func placedFirst(c *domain.Table)               { c.First = true }
func deleting(c *domain.Table)                  { c.Delete, c.Text = true, "" }

func ref(t *testing.T, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawEvent is stored bytes exactly as given.
func rawEvent(typ, data, meta string) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: typ, Data: []byte(data), Metadata: []byte(meta)}
}
