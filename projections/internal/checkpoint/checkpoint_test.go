package checkpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/memstore"
	"github.com/treaty-engine/treaty/internal/filecache"
)

var ctx = context.Background()

// negotiation drives the domain the way the command line does and keeps
// its events, so that tests can fold any prefix of them afresh.
type negotiation struct {
	t      testing.TB
	s      domain.State
	events []domain.Event
	ids    int
	folds  int // refolds asked for by a Store
}

func newNegotiation(t testing.TB) *negotiation {
	n := &negotiation{t: t}
	n.do(domain.OpenTreaty{Treaty: "berlin", Title: "Berlin", Parties: []domain.Party{
		{Code: "UA", Name: "Ukraine", Role: domain.RoleParty},
		{Code: "US", Name: "United States", Role: domain.RoleParty},
		{Code: "EU", Name: "European Union", Role: domain.RoleParty},
		{Code: "DE", Name: "Germany", Role: domain.RoleObserver},
	}})
	return n
}

func (n *negotiation) do(c domain.Command) {
	n.t.Helper()
	evs, err := domain.Decide(&n.s, c)
	if err != nil {
		n.t.Fatalf("Decide(%#v): %v", c, err)
	}
	for _, e := range evs {
		if err := n.s.Evolve(e); err != nil {
			n.t.Fatal(err)
		}
	}
	n.events = append(n.events, evs...)
}

func (n *negotiation) table(party, clause, text string) string {
	n.t.Helper()
	n.ids++
	id := fmt.Sprintf("%04x0000-p", n.ids)
	n.do(domain.Table{Proposal: id, Clause: clause, Party: party, Text: text})
	return id
}

func (n *negotiation) agree(clause, text string) string {
	n.t.Helper()
	id := n.table("UA", clause, text)
	n.do(domain.Accept{Proposal: id, Party: "US"})
	n.do(domain.Accept{Proposal: id, Party: "EU"})
	return id
}

func (n *negotiation) withdrawn(clause string) string {
	n.t.Helper()
	id := n.table("US", clause, "Soon gone.")
	n.do(domain.Withdraw{Proposal: id, Party: "US"})
	return id
}

// refold folds the first k events afresh: what a Store rebuilds closed
// proposals from.
func (n *negotiation) refold(_ context.Context, k int) (*domain.State, error) {
	n.folds++
	s := &domain.State{}
	for _, e := range n.events[:k] {
		if err := s.Evolve(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (n *negotiation) point() Point {
	return Point{Events: n.s.Events, Hash: fmt.Sprintf("%064x", n.s.Events), Time: time.Date(2026, 11, 16, 9, 0, n.s.Events, 0, time.UTC)}
}

func (n *negotiation) store(cache eventstore.Cache) *Store {
	return New(Config{Cache: cache, Name: "treaty-berlin", Treaty: "berlin", Secret: []byte("secret"), Refold: n.refold})
}

// dump encodes everything a state holds that its users see: its exported
// fields and the set of its closed proposals, however they are kept.
func dump(t testing.TB, s *domain.State) string {
	t.Helper()
	var closed []domain.ClosedProposal
	for c, err := range s.ClosedProposals() {
		if err != nil {
			t.Fatal(err)
		}
		closed = append(closed, c)
	}
	sort.Slice(closed, func(i, j int) bool { return closed[i].ID < closed[j].ID })
	x := *s
	x.Closed = nil
	b, err := json.Marshal(struct {
		State   domain.State
		Closed  []domain.ClosedProposal
		Pending string
	}{x, closed, s.Due()})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// counting counts the reads of cache values whose key holds a substring.
type counting struct {
	*memstore.Store
	mu    sync.Mutex
	reads map[string]int
}

func newCounting() *counting { return &counting{Store: memstore.New(), reads: map[string]int{}} }

func (c *counting) CacheGet(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	c.reads[key]++
	c.mu.Unlock()
	return c.Store.CacheGet(ctx, key)
}

func (c *counting) readsOf(part string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.reads {
		if strings.Contains(k, part) {
			n += v
		}
	}
	return n
}

func (c *counting) keys(t testing.TB, part string) []string {
	t.Helper()
	all, err := c.CacheKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, k := range all {
		if strings.Contains(k, part) {
			ks = append(ks, k)
		}
	}
	return ks
}

// closedID is the ID of one of the negotiation's closed proposals.
func (n *negotiation) closedID() string {
	for c, _ := range n.s.ClosedProposals() {
		return c.ID
	}
	return ""
}

// savedHead is the sample negotiation with a head checkpoint saved, in a
// cache that counts its reads.
func savedHead(t *testing.T) (*negotiation, *counting, *Store) {
	t.Helper()
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	return n, cache, cs
}

func sample(t testing.TB) *negotiation {
	n := newNegotiation(t)
	n.do(domain.OpenRound{Party: "DE", Name: "Berlin I"})
	h := "Article A"
	n.ids++
	id := fmt.Sprintf("%04x0000-p", n.ids)
	n.do(domain.Table{Proposal: id, Clause: "a", Party: "UA", Text: "A.", Heading: &h})
	n.do(domain.Accept{Proposal: id, Party: "US"})
	n.do(domain.Accept{Proposal: id, Party: "EU"})
	for i := range 20 {
		n.agree(fmt.Sprintf("c%d", i%6), fmt.Sprintf("Text %d.", i))
		if i%5 == 0 {
			n.withdrawn(fmt.Sprintf("w%d", i))
		}
	}
	open := n.table("US", "a", "A amended.")
	n.do(domain.Object{Proposal: open, Party: "EU", Reason: "no"})
	n.table("DE", "c9", "Mediator's text.")
	n.do(domain.CloseRound{Party: "DE"})
	n.agree("c1", "Last.")
	return n
}

// A head checkpoint restores the state it was saved from, and the restored
// state goes on folding exactly like the original.
func TestHeadRoundTrip(t *testing.T) {
	n, _, cs := savedHead(t)
	got, p, ok := cs.Head(ctx)
	if !ok || p != n.point() {
		t.Fatalf("Head: %v, %+v", ok, p)
	}
	if dump(t, got) != dump(t, &n.s) {
		t.Fatalf("round trip changed the state:\n%s\n%s", dump(t, got), dump(t, &n.s))
	}
	open := n.s.OpenProposals("a")[0].Proposal
	for _, s := range []*domain.State{&n.s, got} {
		for _, c := range []domain.Command{domain.Accept{Proposal: open, Party: "EU"}, domain.Withdraw{Proposal: open, Party: "US"}} {
			evs, err := domain.Decide(s, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if err := s.Evolve(e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if dump(t, got) != dump(t, &n.s) {
		t.Fatal("the restored state diverged after more events")
	}
}

// Every field of the state is in the encoding: a field added to the domain
// and forgotten here fails this test, not a negotiation.
func TestEncodingCoversEveryField(t *testing.T) {
	s := &domain.State{}
	fill(reflect.ValueOf(s).Elem(), 1)
	s.Closed = nil
	b, err := encodePresent(s, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodePresent(b)
	if err != nil {
		t.Fatal(err)
	}
	for k, prop := range p.state.Proposals {
		// The map key is the proposal's ID.
		if k != prop.Proposal {
			t.Fatalf("proposal under %q has ID %q", k, prop.Proposal)
		}
	}
	sum, err := decodeSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&domain.State{Treaty: s.Treaty, Title: s.Title, Parties: s.Parties, Events: s.Events, Rounds: s.Rounds}); !reflect.DeepEqual(sum, want) {
		t.Fatalf("summary %+v, want %+v", *sum, *want)
	}
	if !reflect.DeepEqual(p.state, s) {
		t.Fatalf("fields lost in the encoding:\n got %+v\nwant %+v", *p.state, *s)
	}
}

// fill gives every exported field of v a value that is not its zero.
func fill(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%06d", seed)) // in the order of seeds, as sorted fields need
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(seed))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed+1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), seed+i+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			val := reflect.New(v.Type().Elem()).Elem()
			fill(val, seed+10*i+3)
			key := reflect.New(v.Type().Key()).Elem()
			key.SetString(fmt.Sprintf("k%d", seed+10*i))
			// Maps keyed by an ID hold things carrying that ID.
			if e := val; e.Kind() == reflect.Pointer {
				for _, f := range []string{"ID", "Proposal"} {
					if fv := e.Elem().FieldByName(f); fv.IsValid() && fv.Kind() == reflect.String {
						fv.SetString(key.String())
					}
				}
			}
			m.SetMapIndex(key, val)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && v.Field(i).Kind() != reflect.Interface {
				fill(v.Field(i), seed+i)
			}
		}
	}
}

// The closed part is read only when a closed proposal is asked for: the
// draft, positions on open proposals and new proposals need none.
func TestClosedReadOnlyWhenNeeded(t *testing.T) {
	n, cache, cs := savedHead(t)
	s, _, ok := cs.Head(ctx)
	if !ok {
		t.Fatal("no head")
	}
	if len(s.Draft()) != len(n.s.Draft()) {
		t.Fatal("draft differs")
	}
	for i := range 20 {
		if _, err := domain.Decide(s, domain.Table{Proposal: fmt.Sprintf("new-%d", i), Clause: "z", Party: "UA", Text: "Z."}); err != nil {
			t.Fatal(err)
		}
	}
	open := n.s.OpenProposals("a")[0].Proposal
	if _, err := domain.Decide(s, domain.Accept{Proposal: open, Party: "EU"}); err != nil {
		t.Fatal(err)
	}
	if got := cache.readsOf(".closed."); got != 0 {
		t.Fatalf("the closed part was read %d times for the present alone", got)
	}
	// A closed proposal's ID, reused, is caught: the filter says "maybe".
	adopted := n.closedID()
	if _, err := domain.Decide(s, domain.Table{Proposal: adopted, Clause: "z", Party: "UA", Text: "Z."}); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("a closed proposal's ID reused: %v", err)
	}
	if got := cache.readsOf(".closed."); got != 1 {
		t.Fatalf("closed part read %d times after looking at a closed proposal", got)
	}
	if p, ok, err := s.LookupProposal(adopted); err != nil || !ok || p.Status == domain.StatusOpen {
		t.Fatalf("closed proposal after loading: %+v, %v", p, err)
	}
}

// A value changed by anyone without the secret is not a checkpoint: the
// store says it has none, and a fold from the log answers instead.
func TestForgedCheckpointsAreIgnored(t *testing.T) {
	n, cache, cs := savedHead(t)
	if err := cs.SaveRound(ctx, 1, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	for _, k := range cache.keys(t, "/checkpoint/") {
		v, _ := cache.CacheGet(ctx, k)
		// "Last." becomes "Lost.": the text an editor would change.
		i := strings.Index(string(v), "Last.")
		if i < 0 {
			continue
		}
		forged := slices.Clone(v)
		forged[i+1] = 'o'
		if err := cache.CachePut(ctx, k, forged); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok := cs.Head(ctx); ok {
		t.Fatal("a forged head checkpoint was read")
	}
	if _, _, ok := cs.Round(ctx, 1, -1); ok {
		t.Fatal("a forged round checkpoint was read")
	}
	// A forged round's checkpoint is one to replace, not one the round has.
	if cs.HasRound(ctx, 1) {
		t.Fatal("a round with a forged checkpoint has one")
	}
	if err := cs.SaveRound(ctx, 1, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := cs.Round(ctx, 1, -1); !ok || !cs.HasRound(ctx, 1) {
		t.Fatal("a forged round checkpoint was not replaced")
	}
	if cs.HasRound(ctx, 2) {
		t.Fatal("a round without a checkpoint has one")
	}
	// Made with another machine's secret, and put in the place of ours:
	// not ours either.
	other := New(Config{Cache: cache, Name: "treaty-berlin", Treaty: "berlin", Secret: []byte("someone else's"), Refold: n.refold})
	if err := other.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	theirs, _ := cache.CacheGet(ctx, other.key("head"))
	if err := cache.CachePut(ctx, cs.key("head"), theirs); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := cs.Head(ctx); ok {
		t.Fatal("a checkpoint made with another secret was read")
	}
	// Without a secret, nothing is kept or read.
	none := New(Config{Cache: cache, Name: "treaty-berlin", Treaty: "berlin"})
	if err := none.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := none.Head(ctx); ok {
		t.Fatal("a store without a secret read a checkpoint")
	}
}

// A head checkpoint saved again usually writes its present alone, carrying
// the proposals closed since the closed part it rests on; the state read
// back is the state itself.
func TestHeadCarriesRecentlyClosed(t *testing.T) {
	n, cache, cs := savedHead(t)
	parts := func() []string {
		var ks []string
		for _, k := range cache.keys(t, "/head.closed.") {
			if !strings.HasSuffix(k, ".replaced") {
				ks = append(ks, k)
			}
		}
		return ks
	}
	first := parts()
	if len(first) != 1 {
		t.Fatalf("closed parts after the first checkpoint: %q", first)
	}
	for round := range 3 {
		s, _, ok := cs.Head(ctx)
		if !ok {
			t.Fatal("no head")
		}
		// The restored state and the original both go on.
		m := &negotiation{t: t, s: *s, ids: 1000 * (round + 1)}
		for i := range 6 {
			m.agree(fmt.Sprintf("d%d", i%3), fmt.Sprintf("More %d.%d.", round, i))
			if i%2 == 0 {
				m.withdrawn("x")
			}
		}
		for _, e := range m.events {
			if err := n.s.Evolve(e); err != nil {
				t.Fatal(err)
			}
		}
		n.events = append(n.events, m.events...)
		before := cache.readsOf(".closed.")
		if err := cs.SaveHead(ctx, &m.s, n.point()); err != nil {
			t.Fatal(err)
		}
		if cache.readsOf(".closed.") != before {
			t.Fatal("saving the present read the closed part")
		}
		if got := parts(); !slices.Equal(got, first) {
			t.Fatalf("after round %d: closed parts %q, want only %q", round, got, first)
		}
		back, _, _ := cs.Head(ctx)
		if dump(t, back) != dump(t, &n.s) {
			t.Fatalf("after round %d the head differs from the fold", round)
		}
	}
	// Too many carried: both parts again.
	s, _, _ := cs.Head(ctx)
	m := &negotiation{t: t, s: *s, ids: 90000}
	for range maxCarried + 1 {
		m.withdrawn("y")
	}
	if err := cs.SaveHead(ctx, &m.s, Point{Events: m.s.Events, Hash: "ff"}); err != nil {
		t.Fatal(err)
	}
	if got := parts(); len(got) != 2 {
		t.Fatalf("closed parts after carrying %d: %q", maxCarried+1, got)
	}
	// A part another process replaced is not built upon.
	n2 := sample(t)
	c2 := newCounting()
	cs2 := n2.store(c2)
	if err := cs2.SaveHead(ctx, &n2.s, n2.point()); err != nil {
		t.Fatal(err)
	}
	part := c2.keys(t, "/head.closed.")[0]
	_ = c2.CachePut(ctx, part+".replaced", binary.AppendVarint(nil, time.Now().Unix()))
	s2, _, _ := cs2.Head(ctx)
	m2 := &negotiation{t: t, s: *s2, ids: 5000}
	m2.agree("z", "Z.")
	if err := cs2.SaveHead(ctx, &m2.s, Point{Events: m2.s.Events, Hash: "ee"}); err != nil {
		t.Fatal(err)
	}
	if got := c2.keys(t, "/head.closed."); len(got) < 2 {
		t.Fatalf("a replaced part was built upon: %q", got)
	}
}

// A round's checkpoint keeps no closed part of its own: its closed
// proposals are cut from the head's when the head covers the round's end,
// else refolded; either way they are exactly the round's end's.
func TestRoundCheckpointsShareClosedProposals(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	var ends []*domain.State
	var points []Point
	for r := range 3 {
		for i := range 5 {
			n.agree(fmt.Sprintf("r%d", i), fmt.Sprintf("Round %d text %d.", r, i))
			n.withdrawn("w")
		}
		n.do(domain.OpenRound{Party: "DE"})
		n.do(domain.CloseRound{Party: "DE"})
		if err := cs.SaveRound(ctx, r+2, &n.s, n.point()); err != nil {
			t.Fatal(err)
		}
		want, _ := n.refold(ctx, n.s.Events)
		ends, points = append(ends, want), append(points, n.point())
	}
	n.agree("after", "After every round.")
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if ks := cache.keys(t, "/round-"); len(ks) != 3 || slices.ContainsFunc(ks, func(k string) bool { return strings.Contains(k, ".closed") }) {
		t.Fatalf("round keys: %q", ks)
	}
	check := func(how string, refolds bool) {
		t.Helper()
		for i, want := range ends {
			before := n.folds
			got, p, ok := cs.Round(ctx, i+2, -1)
			if !ok || p != points[i] {
				t.Fatalf("%s: round %d: %v %+v", how, i+2, ok, p)
			}
			if dump(t, got) != dump(t, want) {
				t.Fatalf("%s: round %d differs from a fold to its end", how, i+2)
			}
			if refolded := n.folds > before; refolded != refolds {
				t.Fatalf("%s: round %d refolded: %v", how, i+2, refolded)
			}
		}
	}
	check("cut from the head's", false)
	if _, _, ok := cs.Round(ctx, 3, points[1].Events-1); ok {
		t.Fatal("a round checkpoint past the limit was read")
	}
	for _, k := range cache.keys(t, "/head") {
		_ = cache.CacheDelete(ctx, k)
	}
	check("refolded", true)
}

// racing lets a test act between two cache writes, as another process
// could.
type racing struct {
	*counting
	afterPut func(key string)
}

func (r *racing) CachePut(ctx context.Context, key string, value []byte) error {
	err := r.counting.CachePut(ctx, key, value)
	if r.afterPut != nil {
		r.afterPut(key)
	}
	return err
}

// A present that another process saves just after a full checkpoint,
// resting on the closed part that checkpoint replaced, keeps that part from
// being deleted: the head still reads without a refold.
func TestClosedPartInUseIsKept(t *testing.T) {
	n := sample(t)
	cache := &racing{counting: newCounting()}
	cs := n.store(cache)
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	headKey := cs.key("head")
	racer, _ := cache.counting.CacheGet(ctx, headKey)
	part := cache.keys(t, "/head.closed.")[0]
	// Replaced long ago, as far as this process can tell.
	_ = cache.counting.CachePut(ctx, part+".replaced", binary.AppendVarint(nil, time.Now().Add(-time.Hour).Unix()))
	n.agree("late", "Late.")
	cache.afterPut = func(key string) {
		if key == headKey {
			cache.afterPut = nil
			_ = cache.counting.CachePut(ctx, headKey, racer) // the other process's save lands
		}
	}
	fresh, _ := n.refold(ctx, n.s.Events)
	if err := cs.SaveHead(ctx, fresh, n.point()); err != nil { // a full checkpoint, then the racer
		t.Fatal(err)
	}
	if v, _ := cache.counting.CacheGet(ctx, part); v == nil {
		t.Fatal("the closed part the head rests on was deleted")
	}
	if v, _ := cache.counting.CacheGet(ctx, part+".replaced"); v != nil {
		t.Fatal("the closed part the head rests on is still marked replaced")
	}
	before := n.folds
	s, _, ok := cs.Head(ctx)
	if !ok {
		t.Fatal("no head")
	}
	for _, err := range s.ClosedProposals() {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n.folds != before {
		t.Fatal("the head's closed part was refolded")
	}
}

// A closed part replaced long enough ago goes with its prefix index and
// its filter.
func TestReplacedPartGoesWithItsFilter(t *testing.T) {
	n, cache, cs := savedHead(t)
	old := n.s.Events
	part := cs.closedKey(old)
	_ = cache.CachePut(ctx, part+".replaced", binary.AppendVarint(nil, time.Now().Add(-time.Hour).Unix()))
	n.agree("late", "Late.")
	fresh, _ := n.refold(ctx, n.s.Events)
	if err := cs.SaveHead(ctx, fresh, n.point()); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{part, prefixesKey(part), prefixChunkKey(part, 0)} {
		if v, _ := cache.CacheGet(ctx, gone); v != nil {
			t.Fatalf("%s kept", gone)
		}
	}
	if v, _ := cache.CacheGet(ctx, prefixChunkKey(cs.closedKey(n.s.Events), 0)); v == nil {
		t.Fatal("the new part's prefix index is gone")
	}
	if ks := cache.keys(t, "/filter."+headFilter(old)+"."); len(ks) != 0 {
		t.Fatalf("the replaced part's filter kept: %q", ks)
	}
	if ks := cache.keys(t, "/filter."+headFilter(n.s.Events)+"."); len(ks) == 0 {
		t.Fatal("the new part's filter is gone")
	}
}

// Machines sharing a store (a server, a file carried between them) each
// keep their own checkpoints: one's saves never leave the other without
// its own, to fold from the first event.
func TestMachinesSharingAStore(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	a := n.store(cache)
	b := New(Config{Cache: cache, Name: "treaty-berlin", Treaty: "berlin", Secret: []byte("another machine's"), Refold: n.refold})
	for _, cs := range []*Store{a, b} {
		if err := cs.SaveRound(ctx, 1, &n.s, n.point()); err != nil {
			t.Fatal(err)
		}
		if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
			t.Fatal(err)
		}
		if err := cs.SaveMemo(ctx, "compare", "x", []byte("kept")); err != nil {
			t.Fatal(err)
		}
	}
	before := n.folds
	for _, cs := range []*Store{a, b} {
		if _, _, ok := cs.Head(ctx); !ok {
			t.Fatal("a machine lost its head checkpoint to the other's")
		}
		if _, _, ok := cs.Round(ctx, 1, -1); !ok {
			t.Fatal("a machine lost its round checkpoint to the other's")
		}
		if string(cs.Memo(ctx, "compare", "x")) != "kept" {
			t.Fatal("a machine lost its memo to the other's")
		}
		if points, err := cs.Points(ctx); err != nil || len(points) != 2 {
			t.Fatalf("a machine's checkpoints: %v, %v", points, err)
		}
	}
	if n.folds != before {
		t.Fatal("a shared store made a machine fold from the first event")
	}
}

// Checkpoints of other builds are kept while those builds are in use, and
// cleared once they have not been for a while or too many builds came since.
func TestOldBuildsPruned(t *testing.T) {
	pruneInTests = true
	defer func() { pruneInTests = false }()
	n := sample(t)
	cache := newCounting()
	used := func(b string, ago time.Duration) string {
		_ = cache.CachePut(ctx, "treaty-berlin/checkpoint-used/"+b, binary.AppendVarint(nil, time.Now().Add(-ago).Unix()))
		k := "treaty-berlin/checkpoint/" + b + "/head"
		_ = cache.CachePut(ctx, k, []byte("x"))
		return k
	}
	recent := used("v0-recent", time.Hour)
	stale := used("v0-stale", 30*24*time.Hour)
	var crowd []string
	for i := range 4 {
		crowd = append(crowd, used(fmt.Sprintf("v0-crowd%d", i), time.Duration(2+i)*time.Hour))
	}
	other := "treaty-berlin-2/checkpoint/v0-stale/head"
	_ = cache.CachePut(ctx, other, []byte("y"))
	cs := n.store(cache)
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	has := func(k string) bool { v, _ := cache.CacheGet(ctx, k); return v != nil }
	switch {
	case !has(cs.key("head")):
		t.Fatal("no head checkpoint left")
	case !has(recent) || !has(crowd[0]):
		t.Fatal("the checkpoints of builds in use were deleted")
	case has(stale):
		t.Fatal("the checkpoints of a build unused for a month survived")
	case has(crowd[2]) || has(crowd[3]):
		t.Fatal("more than the most recent builds kept their checkpoints")
	case !has(other):
		t.Fatal("another negotiation's checkpoint was deleted")
	}
	// Within the hour of its mark, a build neither marks nor deletes; once
	// its mark is older, the next save does both.
	mark := "treaty-berlin/checkpoint-used/" + build()
	marked, _ := cache.CacheGet(ctx, mark)
	late := used("v0-late", 60*24*time.Hour)
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if again, _ := cache.CacheGet(ctx, mark); !has(late) || !bytes.Equal(again, marked) {
		t.Fatal("a save within the hour of its build's mark marked again or deleted")
	}
	_ = cache.CachePut(ctx, mark, binary.AppendVarint(nil, time.Now().Add(-2*markEvery).Unix()))
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if v, _ := cache.CacheGet(ctx, mark); has(late) || bytes.Equal(v, binary.AppendVarint(nil, time.Now().Add(-2*markEvery).Unix())) {
		t.Fatal("a save after its build's mark grew old neither marked again nor deleted")
	}
	// A test binary, left to itself, deletes nothing.
	pruneInTests = false
	again := used("v0-ancient", 90*24*time.Hour)
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if !has(again) {
		t.Fatal("a test binary deleted another build's checkpoints")
	}
}

// TestOldBuildsMemosPruned: memos kept outside the store (Config.Memos)
// go with the builds the store's marks let go, and only this negotiation's:
// those of the builds kept stay.
func TestOldBuildsMemosPruned(t *testing.T) {
	pruneInTests = true
	defer func() { pruneInTests = false }()
	n := sample(t)
	cache, memos := newCounting(), newCounting()
	memo := func(name, b string) string {
		k := name + "/memo/" + b + "/tag/compare/doc"
		_ = memos.CachePut(ctx, k, []byte("x"))
		return k
	}
	_ = cache.CachePut(ctx, "treaty-berlin/checkpoint-used/v0-recent", binary.AppendVarint(nil, time.Now().Add(-time.Hour).Unix()))
	_ = cache.CachePut(ctx, "treaty-berlin/checkpoint-used/v0-stale", binary.AppendVarint(nil, time.Now().Add(-30*24*time.Hour).Unix()))
	recent, stale, unmarked := memo("treaty-berlin", "v0-recent"), memo("treaty-berlin", "v0-stale"), memo("treaty-berlin", "v0-elsewhere")
	mine, other := memo("treaty-berlin", build()), memo("treaty-berlin-2", "v0-stale")
	cs := New(Config{Cache: cache, Memos: memos, Name: "treaty-berlin", Treaty: "berlin", Secret: []byte("secret"), Refold: n.refold})
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	has := func(k string) bool { v, _ := memos.CacheGet(ctx, k); return v != nil }
	switch {
	case !has(recent) || !has(mine):
		t.Fatal("the memos of builds in use were deleted")
	case has(stale) || has(unmarked):
		t.Fatal("the memos of builds the store no longer keeps survived")
	case !has(other):
		t.Fatal("another negotiation's memo was deleted")
	}
}

func TestBuild(t *testing.T) {
	b := build()
	if !strings.HasPrefix(b, fmt.Sprintf("v%d-", formatVersion)) || strings.Contains(b, "/") || len(b) < 8 || strings.HasSuffix(b, "unknown") {
		t.Fatalf("build %q", b)
	}
	exe, _ := os.Executable()
	if id := goBuildID(exe); id == "" || !strings.Contains(b, strings.ReplaceAll(id[strings.Index(id, "/")+1:], "/", ".")) {
		t.Fatalf("the test binary's build ID %q is not in %q", id, b)
	}
	if goBuildID("/nonexistent") != "" || goBuildID("checkpoint_test.go") != "" {
		t.Fatal("a build ID from a file that is no executable")
	}
}

func TestTable(t *testing.T) {
	var more []domain.ClosedProposal
	for i := range 3000 {
		more = append(more, domain.ClosedProposal{ID: fmt.Sprintf("%08x-%d", i*2654435761%1000003, i), Clause: fmt.Sprintf("c%d", i%7),
			Party: []string{"UA", "US", "EU"}[i%3], Action: actionCodes[i%3], Status: statusCodes[1+i%2],
			Tabled: i, Round: i / 100, Closed: i + 3})
	}
	half, err := decodeTable(encodeTable(&table{}, slices.Clone(more[:1500])))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := decodeTable(encodeTable(&half, slices.Clone(more[1500:])))
	if err != nil {
		t.Fatal(err)
	}
	if whole.len() != 3000 {
		t.Fatalf("len %d", whole.len())
	}
	for _, p := range more {
		if got, ok := whole.lookup(p.ID); !ok || got != p {
			t.Fatalf("lookup(%s) = %+v, %v; want %+v", p.ID, got, ok, p)
		}
	}
	if _, ok := whole.lookup("nope"); ok {
		t.Fatal("found a proposal never closed")
	}
	// Every truncation and corruption is refused, never a panic.
	data := encodeTable(&table{}, slices.Clone(more[:300]))
	for i := 0; i < len(data); i += 7 {
		if _, err := decodeTable(data[:i]); err == nil && i > 0 {
			t.Fatalf("a table cut at byte %d decoded", i)
		}
		bad := slices.Clone(data)
		bad[i] ^= 0xff
		_, _ = decodeTable(bad)
	}
}

func TestFilter(t *testing.T) {
	f := newFilter(10000)
	if f.shards < 2 || f.capacity() < 10000 {
		t.Fatalf("a filter for 10000 IDs: %d shards, room for %d", f.shards, f.capacity())
	}
	for i := range 10000 {
		f.add(fmt.Sprintf("in-%d", i))
	}
	for i := range 10000 {
		if !f.mayHold(fmt.Sprintf("in-%d", i)) {
			t.Fatalf("in-%d added but not held", i)
		}
	}
	falsePositives := 0
	for i := range 100000 {
		if f.mayHold(fmt.Sprintf("out-%d", i)) {
			falsePositives++
		}
	}
	if falsePositives > 100 { // the filter has room to spare: far fewer expected
		t.Fatalf("%d false positives in 100000", falsePositives)
	}
	var none *filter
	if !none.mayHold("anything") {
		t.Fatal("no filter must say maybe")
	}
	// Read shard by shard: an unreadable shard says maybe, the others
	// still answer.
	read := map[int]int{}
	lazy := &filter{shards: f.shards, words: f.words, load: func(i int) bloom {
		read[i]++
		if i == 0 {
			return nil
		}
		return decodeBloom(encodeBloom(f.parts[i]))
	}}
	answered, elsewhere := 0, 0
	for i := range 1000 {
		id := fmt.Sprintf("out-%d", i)
		shard, _, _ := lazy.hashes(id)
		if shard != 0 {
			elsewhere++
		}
		got := lazy.mayHold(id)
		switch {
		case shard == 0 && !got:
			t.Fatalf("%s: an unreadable shard said no", id)
		case shard != 0 && got != f.mayHold(id):
			t.Fatalf("%s: the shard read says %v, the filter %v", id, got, f.mayHold(id))
		case !got:
			answered++
		}
	}
	if answered < elsewhere-10 || elsewhere > 900 {
		t.Fatalf("%d of the %d new IDs in readable shards answered", answered, elsewhere)
	}
	for i, n := range read {
		if n != 1 {
			t.Fatalf("shard %d read %d times", i, n)
		}
	}
	if w := lazy.whole(); w != nil {
		t.Fatal("a filter with an unreadable shard made whole")
	}
}

// A command that asks about one new ID reads one shard of the filter, not
// the filter; a shard that is gone or forged makes it read the closed part,
// and answer right.
func TestFilterReadByShard(t *testing.T) {
	n, cache, cs := savedHead(t)
	shards := cache.keys(t, "/filter.head-")
	if len(shards) < 1 {
		t.Fatalf("no filter saved with the head: %q", cache.keys(t, ""))
	}
	s, _, ok := cs.Head(ctx)
	if !ok {
		t.Fatal("no head")
	}
	if got := cache.readsOf("/filter."); got != 0 {
		t.Fatalf("the filter was read %d times before any question", got)
	}
	if _, err := domain.Decide(s, domain.Table{Proposal: "new-one", Clause: "z", Party: "UA", Text: "Z."}); err != nil {
		t.Fatal(err)
	}
	if got := cache.readsOf("/filter."); got != 1 {
		t.Fatalf("the filter's shards were read %d times for one new ID", got)
	}
	if got := cache.readsOf(".closed."); got != 0 {
		t.Fatalf("the closed part was read %d times for one new ID", got)
	}
	adopted := n.closedID()
	for _, damage := range []string{"forged", "of another shape", "gone"} {
		for _, k := range shards {
			switch damage {
			case "forged":
				_ = cache.CachePut(ctx, k, make([]byte, 8*512+32))
			case "of another shape": // authentic, but not of the shape the present says
				_ = cs.put(ctx, k, make([]byte, 8*3))
			case "gone":
				_ = cache.CacheDelete(ctx, k)
			}
		}
		for _, id := range []string{"another", adopted} {
			s, _, ok := cs.Head(ctx)
			if !ok {
				t.Fatal("no head")
			}
			before := cache.readsOf(".closed.")
			_, err := domain.Decide(s, domain.Table{Proposal: id, Clause: "z", Party: "UA", Text: "Z."})
			if reused := id == adopted; reused != (domain.ErrorCode(err) == domain.ECONFLICT) {
				t.Fatalf("filter %s: tabling %s: %v", damage, id, err)
			}
			if cache.readsOf(".closed.") != before+1 {
				t.Fatalf("filter %s: the closed part was not read to answer for %s", damage, id)
			}
		}
	}
}

// A round's checkpoint has a filter of its own: folding on from it, new
// IDs are answered without cutting the closed proposals from the head's.
// Dropping the round drops its filter.
func TestRoundFilter(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	if err := cs.SaveRound(ctx, 1, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if len(cache.keys(t, "/filter.round-1.")) == 0 {
		t.Fatal("no filter saved with the round")
	}
	s, _, ok := cs.Round(ctx, 1, -1)
	if !ok {
		t.Fatal("no round")
	}
	before := n.folds
	for i := range 10 {
		if _, err := domain.Decide(s, domain.Table{Proposal: fmt.Sprintf("after-%d", i), Clause: "z", Party: "UA", Text: "Z."}); err != nil {
			t.Fatal(err)
		}
	}
	if n.folds != before || cache.readsOf(".closed.") != 0 {
		t.Fatalf("new IDs after a round: %d refolds, the head's closed part read %d times", n.folds-before, cache.readsOf(".closed."))
	}
	// A round saved from a restored state copies the filter it rests on,
	// with the proposals closed since added.
	adopted := n.closedID()
	if err := cs.SaveRound(ctx, 2, s, n.point()); err != nil {
		t.Fatal(err)
	}
	r2, _, ok := cs.Round(ctx, 2, -1)
	if !ok {
		t.Fatal("no round 2")
	}
	f := r2.Closed.(*closed).filter
	if !f.mayHold(adopted) || f.mayHold("never-tabled") && f.mayHold("nor-this") {
		t.Fatal("round 2's filter does not hold what round 1's did")
	}
	// Saved again in another shape: only the new shape's shards stay.
	stale := cs.filterKey("round-2", 1, 7, 0)
	_ = cs.put(ctx, stale, make([]byte, 8*7))
	if err := cs.SaveRound(ctx, 2, s, n.point()); err != nil {
		t.Fatal(err)
	}
	if v, _ := cache.CacheGet(ctx, stale); v != nil {
		t.Fatal("a shard of another shape outlived a save of the round")
	}
	cs.Drop(ctx, "round-1")
	if ks := cache.keys(t, "/filter.round-1."); len(ks) != 0 {
		t.Fatalf("round 1 dropped, its filter kept: %q", ks)
	}
	if len(cache.keys(t, "/filter.round-2.")) == 0 {
		t.Fatal("round 2's filter dropped with round 1")
	}
}

// FuzzPresent: no bytes make decoding a present part panic; they decode or
// are refused, and what decodes encodes again.
func FuzzPresent(f *testing.F) {
	n := sample(&testing.T{})
	b, _ := encodePresent(&n.s, 3, []domain.ClosedProposal{{ID: "x", Clause: "a", Party: "UA", Action: domain.ActionAmend, Status: domain.StatusAdopted}}, newFilter(10))
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePresent(b)
		if err != nil {
			return
		}
		_ = p.state.Draft()
		if _, err := encodePresent(p.state, p.baseLen, p.carried, &filter{shards: p.shards, words: p.words}); err != nil && p.state.Due() == "" {
			t.Fatal(err)
		}
	})
}

// BenchmarkPresent encodes and decodes the present part of a negotiation
// with many closed proposals, the work of every command's checkpoint.
func BenchmarkPresent(b *testing.B) {
	n := newNegotiation(b)
	n.do(domain.OpenRound{Party: "DE"})
	for i := range 3000 {
		n.agree(fmt.Sprintf("c%d", i%200), fmt.Sprintf("Text %d of the clause, long enough to be a clause.", i))
	}
	filter := newFilter(n.s.Closed.Len())
	data, err := encodePresent(&n.s, n.s.Closed.Len(), nil, filter)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := encodePresent(&n.s, n.s.Closed.Len(), nil, filter); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data)), "bytes")
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodePresent(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A head checkpoint's present is mostly open proposals, each with the
	// positions of the parties that took one: at a million events, some
	// 2,300 of them.
	for i := range 2300 {
		id := n.table([]string{"UA", "US", "EU"}[i%3], fmt.Sprintf("c%d", i%200), fmt.Sprintf("Open text %d of the clause, as long as a clause.", i))
		if i%2 == 0 {
			n.do(domain.Accept{Proposal: id, Party: []string{"US", "EU", "UA"}[i%3]})
		} else {
			n.do(domain.Object{Proposal: id, Party: []string{"EU", "UA", "US"}[i%3], Reason: "Not yet."})
		}
	}
	open, err := encodePresent(&n.s, n.s.Closed.Len(), nil, filter)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-open", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodePresent(open); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(open)), "bytes")
	})
}

// Between yields exactly the proposals closed in a range, from the table
// and from those closed since.
func TestClosedBetween(t *testing.T) {
	var all []domain.ClosedProposal
	for i := range 40 {
		all = append(all, domain.ClosedProposal{ID: fmt.Sprintf("p%02d", i), Clause: "c", Party: "UA", Action: domain.ActionAmend,
			Status: domain.StatusAdopted, Tabled: i + 1, Closed: 100 + i})
	}
	tab, err := decodeTable(encodeTable(&table{}, all[:30]))
	if err != nil {
		t.Fatal(err)
	}
	c := &closed{load: func() (table, error) { return tab, nil }, baseLen: 30, recent: domain.NewClosedProposals()}
	for _, p := range all[30:] {
		c.Add(p)
	}
	var got []string
	for p, err := range c.Between(110, 135) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.ID)
	}
	slices.Sort(got)
	var want []string
	for i := 11; i <= 35; i++ {
		want = append(want, fmt.Sprintf("p%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Between(110, 135) = %v, want %v", got, want)
	}
}

// A short ID of an open proposal resolves without reading the closed part:
// the head's prefix index says no closed proposal starts so. A closed
// proposal's prefix, a forged or missing index, and a prefix shared by an
// open and a closed proposal read the part and answer as a fold would.
func TestPrefixIndex(t *testing.T) {
	n := sample(t)
	closedID := n.closedID()
	// An open proposal whose ID shares its first eight characters with a
	// closed one.
	twin := closedID[:8] + "twin"
	n.do(domain.Table{Proposal: twin, Clause: "twin", Party: "UA", Text: "Twin."})
	open := n.s.OpenProposals("a")[0].Proposal
	// Forged: the index's head, or its chunk.
	for forge := range 3 {
		cache := newCounting()
		cs := n.store(cache)
		if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
			t.Fatal(err)
		}
		index := cache.keys(t, "/head.prefixes.")
		if len(index) != 2 || index[1] != index[0]+".0" {
			t.Fatalf("prefix index keys %v, want a head and one chunk", index)
		}
		if forge > 0 {
			v, _ := cache.Store.CacheGet(ctx, index[forge-1])
			v[0] ^= 1
			_ = cache.Store.CachePut(ctx, index[forge-1], v)
		}
		s, _, ok := cs.Head(ctx)
		if !ok {
			t.Fatal("no head")
		}
		for _, ref := range []string{open[:4], open[:8], strings.ToUpper(open[:8]), open[:9]} {
			if p, err := s.FindProposal(ref); err != nil || p.Proposal != open {
				t.Fatalf("FindProposal(%q) = %v, %v; want %s", ref, p, err, open)
			}
		}
		if got, want := cache.readsOf(".closed."), min(forge, 1); got != want {
			t.Fatalf("forged %v: the closed part was read %d times to resolve an open proposal's prefixes, want %d", forge, got, want)
		}
		if p, err := s.FindProposal(closedID[:len(closedID)-1]); err != nil || p.Proposal != closedID {
			t.Fatalf("a closed proposal's prefix: %v, %v", p, err)
		}
		if _, err := s.FindProposal(closedID[:8]); domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(err.Error(), "ambiguous") {
			t.Fatalf("a prefix of an open and a closed proposal: %v", err)
		}
	}
}

func TestPrefixes(t *testing.T) {
	ids := []string{"3f2a91c0-p", "3f2a91c0-q", "3F2B0000", "abc", "zz-9", "00000000000000001"}
	var all []domain.ClosedProposal
	for _, id := range ids {
		all = append(all, domain.ClosedProposal{ID: id, Clause: "c", Party: "UA", Action: domain.ActionInsert, Status: domain.StatusAdopted})
	}
	tb, err := decodeTable(encodeTable(&table{}, all))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := decodePrefixes(newPrefixes(&tb))
	if !ok || p.len() != len(ids)-1 {
		t.Fatalf("decoded %x, %v: want %d keys (two IDs share eight characters)", p, ok, len(ids)-1)
	}
	for prefix, want := range map[string]bool{
		"3f2a": true, "3F2A91C0": true, "3f2a91c0-x": true, "3f2b": true, "3f2c": false,
		"abc": true, "abcd": false, "ab": true, "zz-9": true, "zz-90": false,
		"0000000000000000": true, "00000001": false, "": true, "~": false,
	} {
		if got := p.mayStart(prefix); got != want {
			t.Errorf("mayStart(%q) = %v, want %v", prefix, got, want)
		}
	}
	keys := func(ks ...uint64) []byte {
		var b []byte
		for _, k := range ks {
			b = binary.BigEndian.AppendUint64(b, k)
		}
		return b
	}
	if p, ok := decodePrefixes(keys(1, 2, 1<<40)); !ok || p.len() != 3 || p.key(2) != 1<<40 {
		t.Errorf("decodePrefixes(1, 2, 1<<40) = %x, %v", p, ok)
	}
	if p, ok := decodePrefixes(nil); !ok || p.len() != 0 || p.mayStart("a") {
		t.Errorf("decodePrefixes(nil) = %x, %v: an empty index, which no ID starts in", p, ok)
	}
	for _, bad := range [][]byte{{1, 2, 3}, keys(2, 1), keys(1, 1), append(keys(1, 2), 0)} {
		if _, ok := decodePrefixes(bad); ok {
			t.Errorf("decodePrefixes(%x) accepted", bad)
		}
	}
}

// A prefix index cut into chunks answers as the whole index does, reading
// only the chunks a prefix's keys would be in; a chunk that cannot be read,
// or holds other keys than the head says, answers "may": the part decides.
func TestPrefixIndexChunks(t *testing.T) {
	var all []domain.ClosedProposal
	seen := map[string]bool{}
	for i := range 3*prefixChunk + 100 {
		// Many IDs sharing their first characters, so that prefixes
		// straddle the cuts between chunks.
		id := fmt.Sprintf("%02x%06x-%d", i%7, (i*7919)%(1<<24)>>4, i)
		if !seen[id] {
			seen[id] = true
			all = append(all, domain.ClosedProposal{ID: id, Clause: "c", Party: "UA", Action: domain.ActionInsert, Status: domain.StatusAdopted})
		}
	}
	tb, err := decodeTable(encodeTable(&table{}, all))
	if err != nil {
		t.Fatal(err)
	}
	whole := newPrefixes(&tb)
	head, chunks := splitPrefixes(whole)
	if len(chunks) != 4 {
		t.Fatalf("%d keys cut into %d chunks, want 4", whole.len(), len(chunks))
	}
	reads := 0
	open := func(chunks [][]byte) *prefixIndex {
		x, ok := decodePrefixIndex(head, func(i int) (prefixes, bool) {
			reads++
			return decodePrefixes(chunks[i])
		})
		if !ok {
			t.Fatalf("the head %x did not read back", head)
		}
		return x
	}
	// As saved in a store and read back, as Head reads it.
	n := sample(t)
	cs := n.store(newCounting())
	part := cs.closedKey(1)
	if err := cs.putPrefixes(ctx, part, whole); err != nil {
		t.Fatal(err)
	}
	stored, ok := decodePrefixIndex(cs.get(ctx, prefixesKey(part)), func(i int) (prefixes, bool) {
		return decodePrefixes(cs.get(ctx, prefixChunkKey(part, i)))
	})
	if !ok {
		t.Fatal("the saved head did not read back")
	}
	x := open(chunks)
	var prefixes []string
	for _, c := range all {
		for _, n := range []int{1, 2, 4, 7, 8, 9} {
			prefixes = append(prefixes, c.ID[:n], strings.ToUpper(c.ID[:n]))
		}
		prefixes = append(prefixes, c.ID[:6]+"z", c.ID[:3]+"~")
	}
	prefixes = append(prefixes, "", "~", "0", "07", "08", "ffffffff")
	for _, prefix := range prefixes {
		if got, want := x.mayStart(prefix), whole.mayStart(prefix); got != want {
			t.Fatalf("mayStart(%q) = %v, the whole index says %v", prefix, got, want)
		}
		if got, want := stored.mayStart(prefix), whole.mayStart(prefix); got != want {
			t.Fatalf("saved: mayStart(%q) = %v, the whole index says %v", prefix, got, want)
		}
	}
	if reads != len(chunks) {
		t.Fatalf("%d chunks read for %d prefixes, want each once: %d", reads, len(prefixes), len(chunks))
	}
	reads = 0
	if x := open(chunks); x.mayStart(all[0].ID[:8]) != true || reads != 1 {
		t.Fatalf("an eight-character prefix read %d chunks, want one", reads)
	}
	// A chunk missing, or another chunk's keys in its place: "may".
	missing := slices.Clone(chunks)
	missing[1] = nil
	swapped := slices.Clone(chunks)
	swapped[1], swapped[2] = chunks[2], chunks[1]
	// A prefix no ID starts with, whose keys would be in chunk 1.
	in1 := binary.BigEndian.AppendUint64(nil, whole.key(prefixChunk+5))
	absent := string(in1[:7]) + "~"
	if x := open(chunks); x.mayStart(absent) {
		t.Fatalf("mayStart(%q) said yes", absent)
	}
	for name, cs := range map[string][][]byte{"missing": missing, "swapped": swapped} {
		if x := open(cs); !x.mayStart(absent) {
			t.Fatalf("chunk 1 %s: mayStart(%q) said no", name, absent)
		}
	}
	// Another chunk with the same first key and as many keys, authentic
	// on its own (another log's index under the same name, say).
	forged := slices.Clone(chunks)
	other := slices.Clone(chunks[1])
	binary.BigEndian.PutUint64(other[8*(len(other)/8-1):], binary.BigEndian.Uint64(other[8*(len(other)/8-1):])+1)
	forged[1] = other
	if x := open(forged); !x.mayStart(absent) {
		t.Fatalf("chunk 1 forged: mayStart(%q) said no", absent)
	}
	for _, bad := range [][]byte{nil, {5}, append(slices.Clone(head), 0), head[:len(head)-8]} {
		if _, ok := decodePrefixIndex(bad, nil); ok {
			t.Errorf("decodePrefixIndex(%x) accepted", bad)
		}
	}
	if x, ok := decodePrefixIndex(binary.AppendUvarint(nil, 0), nil); !ok || x.mayStart("a") || x.mayStart("") {
		t.Error("an empty index: no ID starts in it")
	}
}

// A head checkpoint's summary is saved beside it and read without the
// checkpoint; an edited summary is not trusted, and the checkpoint's own
// start answers instead.
func TestHeadSummary(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	if _, _, ok := cs.HeadSummary(ctx); ok {
		t.Fatal("a summary with no checkpoint saved")
	}
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	want := &domain.State{Treaty: n.s.Treaty, Title: n.s.Title, Parties: n.s.Parties, Events: n.s.Events, Rounds: n.s.Rounds}
	check := func(what string) {
		t.Helper()
		got, p, ok := cs.HeadSummary(ctx)
		if !ok || p != n.point() || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %v %+v %+v, want %+v", what, ok, p, got, want)
		}
	}
	before := cache.readsOf("/checkpoint/")
	check("saved")
	if cache.readsOf("/checkpoint/") != before {
		t.Fatal("the summary read the checkpoint")
	}
	v, err := cache.CacheGet(ctx, cs.summaryKey())
	if err != nil || v == nil {
		t.Fatalf("no summary saved: %v", err)
	}
	v[len(v)/2] ^= 1
	if err := cache.CachePut(ctx, cs.summaryKey(), v); err != nil {
		t.Fatal(err)
	}
	check("edited")
	if cache.readsOf("/checkpoint/") == before {
		t.Fatal("an edited summary was trusted")
	}
}

// Memos of one kind are bounded: a save past keepMemos drops about half of
// those not read since the last such save, not all, and keeps the one
// saved; one read before each such save stays through them all; when every
// one was read, about half of them all go.
func TestMemosBounded(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	prefix := cs.memoPrefix("test")
	memos := func() []string {
		keys, err := cache.CacheKeys(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(keys, func(k string) bool { return strings.HasSuffix(k, readMark) })
	}
	name := func(i int) string { return fmt.Sprintf("%064x", sha256.Sum256([]byte{byte(i)})) }
	save := func(i int) {
		t.Helper()
		if err := cs.SaveMemo(ctx, "test", name(i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	often := name(0)
	evictions := 0
	for i := range 6 * keepMemos {
		before := len(memos())
		save(i)
		// Read without marking it read: only the first memo is read.
		if got := unpack(cs.get(ctx, prefix+name(i)), maxMemo); len(got) != 1 || got[0] != byte(i) {
			t.Fatalf("memo %d not kept as saved: %v", i, got)
		}
		after := len(memos())
		if after < before {
			evictions++
		}
		if after > keepMemos || i >= keepMemos && after < keepMemos/2 {
			t.Fatalf("after %d saves, %d memos kept", i+1, after)
		}
		if got := cs.Memo(ctx, "test", often); len(got) != 1 || got[0] != 0 {
			t.Fatalf("after %d saves, the memo read after each is gone", i+1)
		}
	}
	if evictions < 4 {
		t.Fatalf("%d evictions in %d saves: the test tests too little", evictions, 6*keepMemos)
	}
	// Every one read: the next save past the bound still makes room.
	for i := 6 * keepMemos; len(memos()) < keepMemos; i++ {
		save(i)
	}
	for _, k := range memos() {
		cs.Memo(ctx, "test", strings.TrimPrefix(k, prefix))
	}
	save(255)
	if got := len(memos()); got > keepMemos*3/4 || got < keepMemos/3 {
		t.Fatalf("a save past the bound with every memo read left %d", got)
	}
	if keys, _ := cache.CacheKeys(ctx, prefix); len(keys) > 2*len(memos()) {
		t.Fatalf("%d keys for %d memos: marks outlive their memos", len(keys), len(memos()))
	}
}

// A memo is kept compressed and read back as saved; an empty one too.
func TestMemoCompressed(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	doc := []byte(strings.Repeat("Article 1. The Parties shall meet in Berlin [UA: every month]. ", 2000))
	for name, value := range map[string][]byte{"doc": doc, "empty": {}} {
		if err := cs.SaveMemo(ctx, "test", name, value); err != nil {
			t.Fatal(err)
		}
		if got := cs.Memo(ctx, "test", name); !bytes.Equal(got, value) || got == nil {
			t.Fatalf("memo %s read back as %d bytes (nil: %v), saved %d", name, len(got), got == nil, len(value))
		}
	}
	stored, err := cache.CacheGet(ctx, cs.memoPrefix("test")+"doc")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) > len(doc)/4 {
		t.Fatalf("a memo of %d bytes of text took %d in the store", len(doc), len(stored))
	}
	if cs.Memo(ctx, "test", "missing") != nil {
		t.Fatal("a missing memo was read")
	}
}

// A memo saved as it is, in a cache outside the store, is kept unpacked and
// read back by Memo and WriteMemo as any other, authenticated the same; in
// the store it is packed all the same.
func TestMemoAsIs(t *testing.T) {
	n := sample(t)
	memos := filecache.New(t.TempDir())
	outside := New(Config{Cache: newCounting(), Memos: memos, Name: "treaty-berlin", Treaty: "berlin", Secret: []byte("secret"), Refold: n.refold})
	// Over 512 KiB: more than one block (see cut), each with its lengths.
	doc := []byte(strings.Repeat("Article 1. The Parties shall meet in Berlin [UA: every month]. ", 10000))
	for name, value := range map[string][]byte{"doc": doc, "small": []byte("kept"), "empty": {}} {
		if err := outside.SaveMemoAsIs(ctx, "test", name, value); err != nil {
			t.Fatal(err)
		}
		if got := outside.Memo(ctx, "test", name); !bytes.Equal(got, value) || got == nil {
			t.Fatalf("memo %s read back as %d bytes (nil: %v), saved %d", name, len(got), got == nil, len(value))
		}
		var out bytes.Buffer
		if kept, err := outside.WriteMemo(ctx, "test", name, &out); !kept || err != nil || !bytes.Equal(out.Bytes(), value) {
			t.Fatalf("memo %s written as %d bytes (%v, %v), saved %d", name, out.Len(), kept, err, len(value))
		}
	}
	key := outside.memoPrefix("test") + "doc"
	stored, err := memos.CacheGet(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, blocks, ok := packedBlocks(stored[:len(stored)-sha256.Size], maxMemo); !ok || len(blocks) < 2 || len(stored) < len(doc) {
		t.Fatalf("a memo of %d bytes saved as it is took %d in %d blocks (%v)", len(doc), len(stored), len(blocks), ok)
	}
	stored[len(stored)/2] ^= 1
	if err := memos.CachePut(ctx, key, stored); err != nil {
		t.Fatal(err)
	}
	if outside.Memo(ctx, "test", "doc") != nil {
		t.Fatal("an edited memo was read")
	}

	cache := newCounting()
	inside := n.store(cache)
	if err := inside.SaveMemoAsIs(ctx, "test", "doc", doc); err != nil {
		t.Fatal(err)
	}
	stored, err = cache.CacheGet(ctx, inside.memoPrefix("test")+"doc")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) > len(doc)/4 || !bytes.Equal(inside.Memo(ctx, "test", "doc"), doc) {
		t.Fatalf("a memo of %d bytes of text saved as it is in the store took %d", len(doc), len(stored))
	}
}

// WriteMemo writes what Memo returns, and nothing for a memo that is
// missing or not authentic.
func TestWriteMemo(t *testing.T) {
	n := sample(t)
	cache := newCounting()
	cs := n.store(cache)
	doc := []byte(strings.Repeat("Article 1. The Parties shall meet in Berlin [UA: every month]. ", 20000))
	for name, value := range map[string][]byte{"doc": doc, "small": []byte("kept"), "empty": {}} {
		if err := cs.SaveMemo(ctx, "test", name, value); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if kept, err := cs.WriteMemo(ctx, "test", name, &out); !kept || err != nil || !bytes.Equal(out.Bytes(), value) {
			t.Fatalf("memo %s written as %d bytes (%v, %v), saved %d", name, out.Len(), kept, err, len(value))
		}
	}
	var out bytes.Buffer
	if kept, err := cs.WriteMemo(ctx, "test", "missing", &out); kept || err != nil || out.Len() != 0 {
		t.Fatalf("a missing memo: %v, %v, %d bytes written", kept, err, out.Len())
	}
	key := cs.memoPrefix("test") + "doc"
	stored, err := cache.CacheGet(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	stored[len(stored)/2] ^= 1
	if err := cache.CachePut(ctx, key, stored); err != nil {
		t.Fatal(err)
	}
	if kept, err := cs.WriteMemo(ctx, "test", "doc", &out); kept || err != nil || out.Len() != 0 {
		t.Fatalf("an edited memo: %v, %v, %d bytes written", kept, err, out.Len())
	}
	failing := errors.New("the pipe is closed")
	if kept, err := cs.WriteMemo(ctx, "test", "small", errWriter{failing}); !kept || !errors.Is(err, failing) {
		t.Fatalf("a failing writer: %v, %v", kept, err)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

// A restored state shared among readers (as Live shares past moments) may
// be asked about closed proposals on several goroutines at once: the
// filter's shards, the table and the prefix index are each read once, and
// every answer is right.
func TestClosedSharedAmongGoroutines(t *testing.T) {
	n, cache, cs := savedHead(t)
	s, _, ok := cs.Head(ctx)
	if !ok {
		t.Fatal("no head")
	}
	adopted := n.closedID()
	errs := make(chan error, 32)
	for i := range 32 {
		go func() {
			var err error
			switch i % 3 {
			case 0:
				if _, ok, lerr := s.LookupProposal(adopted); lerr != nil || !ok {
					err = fmt.Errorf("closed proposal %s: found %v, %v", adopted, ok, lerr)
				}
			case 1:
				if _, ok, lerr := s.LookupProposal(fmt.Sprintf("never-%d", i)); lerr != nil || ok {
					err = fmt.Errorf("a proposal never tabled: found %v, %v", ok, lerr)
				}
			default:
				if ids, perr := s.Closed.WithPrefix(adopted[:4]); perr != nil || !slices.Contains(ids, adopted) {
					err = fmt.Errorf("prefix %s: %q, %v", adopted[:4], ids, perr)
				}
			}
			errs <- err
		}()
	}
	for range 32 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := cache.readsOf(".closed."); got != 1 {
		t.Fatalf("the closed part was read %d times", got)
	}
}

// Positions are encoded sorted by party, as domain.Positions keeps them, and
// read back only so: positions out of order are refused when encoded, and
// a present whose positions are out of order does not decode.
func TestPositionsOrder(t *testing.T) {
	n := newNegotiation(t)
	id := n.table("UA", "a", "A.")
	n.do(domain.Accept{Proposal: id, Party: "US"})
	b, err := encodePresent(&n.s, 0, nil, newFilter(1))
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodePresent(b)
	if err != nil {
		t.Fatal(err)
	}
	got := p.state.Proposals[id].Positions
	if len(got) != 2 || got[0].Party != "UA" || got[1].Party != "US" {
		t.Fatalf("positions read back as %+v", got)
	}
	// The same bytes with the two parties' positions swapped.
	ua, us := got[0], got[1]
	swapped := bytes.Replace(b, []byte("\x02UA\x07accepts"), []byte("\x02XX\x07accepts"), 1)
	swapped = bytes.Replace(swapped, []byte("\x02US\x07accepts"), []byte("\x02UA\x07accepts"), 1)
	swapped = bytes.Replace(swapped, []byte("\x02XX\x07accepts"), []byte("\x02US\x07accepts"), 1)
	if bytes.Equal(swapped, b) {
		t.Fatal("found no positions to swap")
	}
	if _, err := decodePresent(swapped); err == nil {
		t.Fatal("positions out of order were read")
	}
	n.s.Proposals[id].Positions = domain.Positions{us, ua}
	if _, err := encodePresent(&n.s, 0, nil, newFilter(1)); err == nil {
		t.Fatal("positions out of order were encoded")
	}
}

// goBuildID reads what debug/elf reads from the running executable, reads
// 64-bit and 32-bit files of either byte order, and returns "" for files
// whose notes are cut short or hold no Go note, without reading past them.
func TestGoBuildID(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := elf.Open(exe); err != nil {
		// Not an ELF system: the files below are the test.
		t.Logf("the test binary is not ELF: %v", err)
	} else {
		defer f.Close()
		want := ""
		for _, s := range f.Sections {
			if s.Name == ".note.go.buildid" {
				data, err := s.Data()
				if err != nil {
					t.Fatal(err)
				}
				descSize := f.ByteOrder.Uint32(data[4:])
				want = string(data[16 : 16+descSize])
			}
		}
		if want == "" {
			t.Fatal("the test binary has no .note.go.buildid section")
		}
		if got := goBuildID(exe); got != want {
			t.Fatalf("goBuildID = %q, debug/elf reads %q", got, want)
		}
	}

	type byteOrder interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	type layout struct {
		class byte
		order byteOrder
	}
	note := func(l layout, name string, typ uint32, desc string) []byte {
		b := l.order.AppendUint32(nil, uint32(len(name)))
		b = l.order.AppendUint32(b, uint32(len(desc)))
		b = l.order.AppendUint32(b, typ)
		b = append(b, name...)
		b = append(b, make([]byte, (4-len(name)%4)%4)...)
		b = append(b, desc...)
		return append(b, make([]byte, (4-len(desc)%4)%4)...)
	}
	// file lays out an ELF header, a PT_LOAD and a PT_NOTE program header
	// saying the segment is size bytes long (-1: the notes' length), and
	// the notes.
	file := func(l layout, notes []byte, size int) []byte {
		if size < 0 {
			size = len(notes)
		}
		ehsize, phsize := 64, 56
		if l.class == 1 {
			ehsize, phsize = 52, 32
		}
		b := make([]byte, ehsize+2*phsize)
		copy(b, "\x7fELF")
		b[4], b[6] = l.class, 1
		if l.order == binary.BigEndian {
			b[5] = 2
		} else {
			b[5] = 1
		}
		notesAt := uint64(len(b))
		for i, typ := range []uint32{1, 4} { // PT_LOAD, PT_NOTE
			p := b[ehsize+i*phsize:]
			l.order.PutUint32(p, typ)
			if l.class == 1 {
				l.order.PutUint32(p[4:], uint32(notesAt))
				l.order.PutUint32(p[16:], uint32(size))
			} else {
				l.order.PutUint64(p[8:], notesAt)
				l.order.PutUint64(p[32:], uint64(size))
			}
		}
		if l.class == 1 {
			l.order.PutUint32(b[28:], uint32(ehsize))
			l.order.PutUint16(b[42:], uint16(phsize))
			l.order.PutUint16(b[44:], 2)
		} else {
			l.order.PutUint64(b[32:], uint64(ehsize))
			l.order.PutUint16(b[54:], uint16(phsize))
			l.order.PutUint16(b[56:], 2)
		}
		return append(b, notes...)
	}
	for _, l := range []layout{{2, binary.LittleEndian}, {2, binary.BigEndian}, {1, binary.LittleEndian}, {1, binary.BigEndian}} {
		goNote := note(l, "Go\x00\x00", 4, "abc/def")
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"a Go note after a GNU one", file(l, append(note(l, "GNU\x00", 3, "0123456789abcdef0123"), goNote...), -1), "abc/def"},
			{"a long note name before it", file(l, append(note(l, "a-long-vendor-name\x00", 4, "x"), goNote...), -1), "abc/def"},
			{"no Go note", file(l, note(l, "GNU\x00", 3, "0123"), -1), ""},
			{"the file cut short in the note", file(l, goNote, -1)[:len(file(l, nil, 0))+14], ""},
			{"a segment shorter than its note", file(l, goNote, 20), ""},
			{"a note description over 1 KiB", file(l, note(l, "Go\x00\x00", 4, strings.Repeat("x", 1<<11)), -1), ""},
			{"the header alone", file(l, nil, 0)[:52], ""},
		} {
			path := filepath.Join(t.TempDir(), "exe")
			if err := os.WriteFile(path, c.data, 0o755); err != nil {
				t.Fatal(err)
			}
			if got := goBuildID(path); got != c.want {
				t.Errorf("class %d, %v: %s: %q, want %q", l.class, l.order, c.name, got, c.want)
			}
		}
	}
	for name, data := range map[string]string{"a script": "#!/bin/sh\necho\n", "empty": "", "Mach-O": "\xcf\xfa\xed\xfe" + strings.Repeat("\x00", 60)} {
		path := filepath.Join(t.TempDir(), "exe")
		if err := os.WriteFile(path, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := goBuildID(path); got != "" {
			t.Errorf("%s: %q", name, got)
		}
	}
}

// TestTake: take's slices share arrays, but none reaches another's
// elements, by an append or a change in place.
func TestTake(t *testing.T) {
	var free []int
	a, b := take(&free, 3), take(&free, 2)
	if len(a) != 3 || cap(a) != 3 || len(b) != 2 || cap(b) != 2 {
		t.Fatalf("len/cap %d/%d and %d/%d, want 3/3 and 2/2", len(a), cap(a), len(b), cap(b))
	}
	copy(b, []int{7, 8})
	a[2] = 1
	a = append(a, 9)
	if b[0] != 7 || b[1] != 8 {
		t.Errorf("the second slice is %v after the first grew and changed, want [7 8]", b)
	}
	if big := take(&free, takeChunk+1); len(big) != takeChunk+1 {
		t.Errorf("a slice longer than a chunk: len %d", len(big))
	}
}

// TestDecodedPositionsApart: the positions of decoded proposals share
// arrays (take), yet a position set on one, in place or added, leaves the
// others' as they were.
func TestDecodedPositionsApart(t *testing.T) {
	n := newNegotiation(t)
	n.do(domain.OpenRound{Party: "DE"})
	n.agree("c9", "An agreed text.")
	var ids []string
	for i := range 4 {
		id := n.table("UA", fmt.Sprintf("c%d", i), "An open text.")
		n.do(domain.Accept{Proposal: id, Party: "US"})
		ids = append(ids, id)
	}
	data, err := encodePresent(&n.s, n.s.Closed.Len(), nil, newFilter(0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodePresent(data)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]domain.Positions{}
	for _, id := range ids {
		before[id] = slices.Clone(p.state.Proposals[id].Positions)
	}
	changed := p.state.Proposals[ids[1]]
	// In place first (the shared array), then added (a new one).
	changed.Positions.Set("UA", domain.Position{Stance: domain.Objects, Reason: "in place"})
	changed.Positions.Set("EU", domain.Position{Stance: domain.Objects, Reason: "added"})
	for _, id := range ids {
		if got := p.state.Proposals[id].Positions; id != ids[1] && !reflect.DeepEqual(got, before[id]) {
			t.Errorf("proposal %s's positions are %+v after another's changed, want %+v", id, got, before[id])
		}
	}
	if got := changed.Positions.Of("UA"); got.Reason != "in place" {
		t.Errorf("the changed proposal's UA position: %+v", got)
	}
	if got := changed.Positions.Of("EU"); got.Reason != "added" {
		t.Errorf("the changed proposal's EU position: %+v", got)
	}
}
