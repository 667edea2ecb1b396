package projections

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/memstore"
)

// testStore is the in-memory store (memstore), counting its reads, and
// those that begin at the first event: how a test tells a fold from the
// first event from one that started at a checkpoint.
type testStore struct {
	*memstore.Store
	mu        sync.Mutex
	fromStart int
	reads     int // all reads, wherever they begin
}

func newTestStore() *testStore { return &testStore{Store: memstore.New()} }

func (m *testStore) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	m.mu.Lock()
	m.reads++
	if from == 0 {
		m.fromStart++
	}
	m.mu.Unlock()
	return m.Store.Read(ctx, stream, from)
}

// readCount is how many reads of the log the store has begun.
func (m *testStore) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// cacheKeys lists every key in the store's cache.
func (m *testStore) cacheKeys(t testing.TB) []string {
	t.Helper()
	keys, err := m.CacheKeys(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// session writes a negotiation through the rules into a store, the way the
// command line does, with a clock that ticks a minute per act.
type session struct {
	t      testing.TB
	store  *testStore
	treaty string
	s      domain.State
	at     time.Time
	ids    int
	head   string // hash of the last event
	// privs holds the private keys the session's participants made, by
	// key ID: an act is signed as the rules say (domain.SigningKey).
	privs map[string]ed25519.PrivateKey
}

func newSession(t testing.TB) *session {
	t.Helper()
	ss := &session{t: t, store: newTestStore(), treaty: "berlin", at: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC),
		privs: map[string]ed25519.PrivateKey{}}
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
	if cl, ok := c.(domain.CloseRound); ok {
		cl.Head = ss.head
		c = cl
	}
	evs, err := domain.Decide(&ss.s, c)
	if err != nil {
		ss.t.Fatalf("Decide(%#v): %v", c, err)
	}
	ss.at = ss.at.Add(time.Minute)
	var batch []eventstore.EventData
	for _, e := range evs {
		var key ed25519.PrivateKey
		if _, id, rule := ss.s.SigningKey(e, party); rule != domain.Unsigned {
			key = ss.privs[id]
			if key == nil && rule == domain.MustSign {
				ss.t.Fatalf("the session holds no key %s of %s", id, party)
			}
		}
		id := uuid.New()
		sealed, err := domain.SealEvent(e, domain.Meta{Party: party, Author: "author-" + party, Round: ss.s.RoundOf(e), Time: ss.at, ID: id.String()}, ss.head, key)
		if err != nil {
			ss.t.Fatal(err)
		}
		batch = append(batch, eventstore.EventData{ID: id, Type: sealed.Type, Data: sealed.Data, Metadata: sealed.Metadata})
		ss.head = sealed.Hash
		if err := ss.s.Evolve(e); err != nil {
			ss.t.Fatal(err)
		}
	}
	if _, err := ss.store.Append(context.Background(), Stream(ss.treaty), eventstore.Any(), batch...); err != nil {
		ss.t.Fatal(err)
	}
	return evs
}

// newKey makes a key the session holds. Keys follow from a name and the
// event count, so a session (and a fuzz corpus built on one) is the same
// every run.
func (ss *session) newKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256(fmt.Appendf(nil, "%s/%d", name, ss.s.Events))
	priv := ed25519.NewKeyFromSeed(seed[:])
	ss.privs[domain.KeyID(priv.Public().(ed25519.PublicKey))] = priv
	return priv
}

// registerKey makes a key for party and registers it, signed as the rules
// want: by itself, or by the party's key in effect, which it is to replace.
func (ss *session) registerKey(party string) ed25519.PrivateKey {
	ss.t.Helper()
	priv := ss.newKey(party)
	ss.do(party, domain.RegisterKey{Party: party, Key: priv.Public().(ed25519.PublicKey)})
	return priv
}

// endorseAll has every party endorse every other participant's pending
// key, so that they take effect.
func (ss *session) endorseAll() {
	ss.t.Helper()
	for _, by := range ss.s.Parties {
		for _, subject := range ss.s.Parties {
			if by.Role != domain.RoleParty || by.Code == subject.Code {
				continue
			}
			if k, ok := ss.s.PendingKey(subject.Code); ok && !slices.ContainsFunc(k.Endorsements, func(e domain.Endorsement) bool { return e.Party == by.Code }) {
				ss.do(by.Code, domain.EndorseKey{Party: by.Code, Subject: subject.Code})
			}
		}
	}
}

// keyRing gives every party a key in effect: each registers one, and each
// endorses the others'.
func (ss *session) keyRing() map[string]ed25519.PrivateKey {
	ss.t.Helper()
	keys := map[string]ed25519.PrivateKey{}
	for _, p := range ss.s.Parties {
		if p.Role == domain.RoleParty {
			keys[p.Code] = ss.registerKey(p.Code)
		}
	}
	ss.endorseAll()
	return keys
}

// raw appends an event as given, rules or no rules, sealed into the chain
// (signed with key when it is not nil).
func (ss *session) raw(e domain.Event, meta domain.Meta, key ...ed25519.PrivateKey) {
	ss.t.Helper()
	var k ed25519.PrivateKey
	if len(key) > 0 {
		k = key[0]
	}
	id := uuid.New()
	meta.ID = id.String()
	sealed, err := domain.SealEvent(e, meta, ss.head, k)
	if err != nil {
		ss.t.Fatal(err)
	}
	ss.rawBytesAs(id, sealed.Type, sealed.Data, sealed.Metadata)
	ss.head = sealed.Hash
}

// rawBytes appends stored bytes exactly as given, under a new ID.
func (ss *session) rawBytes(typ string, data, meta []byte) {
	ss.t.Helper()
	ss.rawBytesAs(uuid.New(), typ, data, meta)
}

func (ss *session) rawBytesAs(id uuid.UUID, typ string, data, meta []byte) {
	ss.t.Helper()
	if _, err := ss.store.Append(context.Background(), Stream(ss.treaty), eventstore.Any(),
		eventstore.EventData{ID: id, Type: typ, Data: data, Metadata: meta}); err != nil {
		ss.t.Fatal(err)
	}
}

// stored returns the negotiation's stored events, for tests that tamper
// with them.
func (ss *session) stored() []eventstore.RecordedEvent {
	var evs []eventstore.RecordedEvent
	ss.store.Tamper(Stream(ss.treaty), func(old []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		evs = slices.Clone(old)
		return old
	})
	return evs
}

// tamper replaces the stored events of the negotiation, renumbering their
// revisions, as someone with the file could.
func (ss *session) tamper(f func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent) {
	ss.store.Tamper(Stream(ss.treaty), func(old []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		evs := f(old)
		for i := range evs {
			evs[i].Revision = uint64(i)
		}
		return evs
	})
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

// withCheckpoints reads and leaves checkpoints, authenticated with a
// secret of the test's.
var withCheckpoints = Options{Secret: []byte("a secret of this machine"), Save: true}

// amendRounds holds the given number of rounds, in each of which UA, US and
// EU table acts proposals on clauses a, b and c in turn (their texts given
// by text), every fourth left open and the others accepted by the other
// two: clauses that change many times over.
func (ss *session) amendRounds(rounds, acts int, text func(i, round int, clause string) string) {
	parties := []string{"UA", "US", "EU"}
	for round := range rounds {
		ss.openRound()
		for i := range acts {
			clause := string(rune('a' + (i+round)%3))
			by := parties[(i*7+round)%3]
			id := ss.table(by, clause, text(i, round, clause))
			if i%4 == 3 {
				continue
			}
			var others []string
			for _, p := range parties {
				if p != by {
					others = append(others, p)
				}
			}
			ss.accept(id, others...)
		}
		ss.closeRound()
	}
}

// wholeAudit is the audit with every proposal in memory, as AuditList
// lists them: what the report says, for the tests to look into.
func wholeAudit(r *Reader) (Audit, error) {
	a, list, err := r.AuditList(ctx)
	if err != nil || list == nil {
		return a, err
	}
	defer list.Close()
	a.Proposals, err = list.Summaries()
	return a, err
}

// written returns what write writes, failing the test on its error.
func written(t testing.TB, write func(io.Writer) error) string {
	t.Helper()
	var b strings.Builder
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkpointed reads the negotiation now with r and saves its head
// checkpoint, as a command that folded past the last one leaves it.
func checkpointed(t testing.TB, r *Reader) Moment {
	t.Helper()
	m, err := r.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.Checkpoint(context.Background(), m)
	return m
}
