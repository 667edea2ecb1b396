package domain

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE", Name: "Berlin I"})
	n.agree("a", "A.", heading("Article A"))
	n.agree("b", "B.")
	open := n.table("US", "a", "A amended.", heading(""))
	n.do(Object{Proposal: open, Party: "EU", Reason: "no"})
	n.table("EU", "a", "A by EU.")
	n.table("DE", "c", "Mediator's C.", first)
	gone := n.table("UA", "d", "D.")
	n.do(Withdraw{Proposal: gone, Party: "UA"})
	n.do(CloseRound{Party: "DE"})
	n.agree("b", "", deletion)

	data, err := n.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := got.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if !sameState(&got, &n.s) {
		t.Fatalf("snapshot round trip changed the state:\n got %+v\nwant %+v", got, n.s)
	}
	if h := got.Proposals[open].Heading; h == nil || *h != "" {
		t.Fatalf("an empty heading came back as %v", h)
	}
	// The restored state goes on folding exactly like the original.
	for _, s := range []*State{&n.s, &got} {
		for _, c := range []Command{Accept{Proposal: open, Party: "EU"}, Withdraw{Proposal: open, Party: "US"}} {
			evs, err := Decide(s, c)
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
	if !sameState(&got, &n.s) {
		t.Fatal("restored state diverged after more events")
	}
}

func TestSnapshotRefusals(t *testing.T) {
	var s State
	if err := s.UnmarshalBinary([]byte("not gob")); err == nil {
		t.Fatal("garbage decoded")
	}
	n := newNegotiation(t, Party{Code: "A", Role: RoleParty}, Party{Code: "B", Role: RoleParty})
	n.do(Table{Proposal: "p1", Clause: "c", Party: "A", Text: "x"})
	if err := n.s.Evolve(ProposalAccepted{Proposal: "p1", Party: "B"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.s.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "adoption") {
		t.Fatalf("snapshot of a state awaiting adoption: %v", err)
	}
}

// sameState compares two states as their users see them: the closed
// proposals as a set, however they are held.
func sameState(a, b *State) bool {
	closed := func(s *State) map[string]ClosedProposal {
		m := map[string]ClosedProposal{}
		for c := range s.closed.each {
			m[c.ID] = c
		}
		return m
	}
	if !reflect.DeepEqual(closed(a), closed(b)) {
		return false
	}
	x, y := *a, *b
	x.closed, y.closed = closedSet{}, closedSet{}
	return reflect.DeepEqual(x, y)
}

func TestClosedTable(t *testing.T) {
	var c closedSet
	for i := 0; i < 2*compactAt+500; i++ {
		c.add(ClosedProposal{ID: fmt.Sprintf("%08x-%d", i*2654435761%1000003, i), Clause: fmt.Sprintf("c%d", i%7),
			Party: []string{"UA", "US", "EU"}[i%3], Action: actionCodes[i%3], Status: statusCodes[1+i%2],
			Tabled: i, Round: i / 100, Closed: i + 3})
	}
	var d closedSet
	if err := d.unmarshal(c.marshal(nil)); err != nil {
		t.Fatal(err)
	}
	d.add(ClosedProposal{ID: "zzzz-new", Clause: "c1", Party: "UA", Action: ActionAmend, Status: StatusAdopted})
	if c.base.len() != 2*compactAt || len(c.recent) != 500 {
		t.Fatalf("before marshal: table %d, map %d: the map was not compacted", c.base.len(), len(c.recent))
	}
	if d.len() != 2*compactAt+501 || d.base.len() != 2*compactAt+500 {
		t.Fatalf("len %d, base %d", d.len(), d.base.len())
	}
	for p := range c.each {
		got, ok := d.get(p.ID)
		if !ok || got != p {
			t.Fatalf("get(%s) = %+v, %v; want %+v", p.ID, got, ok, p)
		}
	}
	if _, ok := d.get("nope"); ok {
		t.Fatal("found a proposal never closed")
	}
	if ids := d.withPrefix("zzzz"); len(ids) != 1 {
		t.Fatalf("prefix in the recent map: %v", ids)
	}
	for p := range c.each {
		ids := d.withPrefix(p.ID[:6])
		if !slices.Contains(ids, p.ID) {
			t.Fatalf("withPrefix(%s) = %v misses %s", p.ID[:6], ids, p.ID)
		}
	}
	// Every truncation and corruption is refused, never a panic.
	var small closedSet
	for p := range c.each {
		if small.add(p); small.len() == 300 {
			break
		}
	}
	data := small.marshal(nil)
	for i := 0; i < len(data); i += 7 {
		var e closedSet
		if e.unmarshal(data[:i]) == nil && i > 0 {
			t.Fatalf("a table cut at byte %d decoded", i)
		}
		bad := slices.Clone(data)
		bad[i] ^= 0xff
		_ = e.unmarshal(bad)
	}
}

func TestSnapshotPartsReadClosedOnlyWhenNeeded(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE"})
	var adopted []string
	for i := range 50 {
		adopted = append(adopted, n.agree(fmt.Sprintf("c%d", i), fmt.Sprintf("Text %d.", i)))
	}
	open := n.table("US", "c1", "Amended.")
	present, closed, err := n.s.MarshalParts()
	if err != nil {
		t.Fatal(err)
	}
	if len(present) > len(closed)*4 {
		t.Logf("present %d bytes, closed %d", len(present), len(closed))
	}
	loads := 0
	load := func() ([]byte, error) { loads++; return closed, nil }
	var s State
	if err := s.UnmarshalParts(present, load); err != nil {
		t.Fatal(err)
	}
	// The draft, positions on open proposals and new proposals need no
	// closed proposal.
	if len(s.Draft()) != 50 || len(s.OpenProposals("c1")) != 1 {
		t.Fatal("draft differs")
	}
	for i := range 20 {
		if _, err := Decide(&s, Table{Proposal: fmt.Sprintf("new-%d", i), Clause: "z", Party: "UA", Text: "Z."}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Decide(&s, Accept{Proposal: open, Party: "EU"}); err != nil {
		t.Fatal(err)
	}
	if loads != 0 {
		t.Fatalf("the closed table was read %d times for the present alone", loads)
	}
	// A closed proposal's ID, reused, is caught: the filter says "maybe".
	if _, err := Decide(&s, Table{Proposal: adopted[7], Clause: "z", Party: "UA", Text: "Z."}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("a closed proposal's ID reused: %v", err)
	}
	if loads != 1 {
		t.Fatalf("loads = %d after looking at a closed proposal", loads)
	}
	if p, ok := s.Proposal(adopted[3]); !ok || p.Status != StatusAdopted {
		t.Fatalf("closed proposal after loading: %+v", p)
	}
	if !sameState(&s, &n.s) {
		t.Fatal("the state read in parts differs")
	}

	// A table that cannot be read poisons the state: it refuses to decide
	// or fold rather than answer wrongly.
	var bad State
	if err := bad.UnmarshalParts(present, func() ([]byte, error) { return nil, fmt.Errorf("disk on fire") }); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.FindProposal(adopted[0][:6]); err == nil && bad.Err() == nil {
		t.Fatal("no error after the table failed to load")
	}
	if !strings.Contains(fmt.Sprint(bad.Err()), "disk on fire") || !strings.Contains(bad.Err().Error(), "--no-checkpoints") {
		t.Fatalf("Err = %v", bad.Err())
	}
	if _, err := Decide(&bad, Table{Proposal: "x-1", Clause: "z", Party: "UA", Text: "Z."}); err == nil {
		t.Fatal("a poisoned state decided")
	}
	if err := bad.Evolve(RoundClosed{Round: 1}); err == nil {
		t.Fatal("a poisoned state folded an event")
	}
	var wrong State
	wrong.UnmarshalParts(present, func() ([]byte, error) { return closed[:len(closed)/2], nil })
	wrong.ClosedProposals()(func(ClosedProposal) bool { return true })
	if wrong.Err() == nil {
		t.Fatal("a truncated table was accepted")
	}
}

func TestBloom(t *testing.T) {
	f := newBloom(10000)
	for i := range 10000 {
		f.add(fmt.Sprintf("in-%d", i))
	}
	for i := range 10000 {
		if !f.mayHold(fmt.Sprintf("in-%d", i)) {
			t.Fatalf("in-%d added but not held", i)
		}
	}
	false_ := 0
	for i := range 100000 {
		if f.mayHold(fmt.Sprintf("out-%d", i)) {
			false_++
		}
	}
	t.Logf("%d false positives in 100000", false_)
	if false_ > 100 { // the filter has room to spare: far fewer expected
		t.Fatalf("%d false positives in 100000", false_)
	}
	if !bloom(nil).mayHold("anything") {
		t.Fatal("an empty filter must say maybe")
	}
}

// FuzzSnapshot: no bytes make decoding a snapshot panic; they decode or are
// refused.
func FuzzSnapshot(f *testing.F) {
	n := newNegotiation(&testing.T{})
	n.do(OpenRound{Party: "DE"})
	n.agree("a", "A.", heading(""))
	n.table("US", "a", "A2.")
	data, _ := n.s.MarshalBinary()
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte{})
	// A present that carries proposals closed since its closed part.
	present, closed, _ := n.s.MarshalParts()
	var restored State
	_ = restored.UnmarshalParts(present, func() ([]byte, error) { return closed, nil })
	m := &negotiation{t: &testing.T{}, s: restored, ids: 100}
	m.agree("b", "B.")
	carried, _, _ := m.s.MarshalPresent()
	f.Add(append(append(binary.AppendUvarint(nil, uint64(len(carried))), carried...), closed...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if s.UnmarshalBinary(b) == nil {
			_ = s.Draft()
			_, _ = s.MarshalBinary()
			_, _, _ = s.MarshalPresent()
			_, _ = s.MarshalPresentAlone()
			_, _ = s.ClosedPartAt(s.Events / 2)
		}
	})
}

// A round's checkpoint keeps no closed proposals of its own: they are cut
// from a later state's. The cut must be exactly what the earlier state held.
func TestClosedPartAt(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE"})
	for i := range 30 {
		n.agree(fmt.Sprintf("c%d", i%7), fmt.Sprintf("Text %d.", i))
		if i%4 == 0 {
			p := n.table("US", fmt.Sprintf("c%d", i%5), "Withdrawn soon.")
			n.do(Withdraw{Proposal: p, Party: "US"})
		}
	}
	n.do(CloseRound{Party: "DE"})
	earlier := n.s.Events
	_, want, err := n.s.MarshalParts()
	if err != nil {
		t.Fatal(err)
	}
	open := n.table("EU", "c1", "Open across the cut, adopted after it.")
	n.do(OpenRound{Party: "DE"})
	for i := range 20 {
		n.agree(fmt.Sprintf("d%d", i), "More.")
	}
	for _, party := range []string{"UA", "US"} {
		n.do(Accept{Proposal: open, Party: party})
	}
	_, later, err := n.s.MarshalParts()
	if err != nil {
		t.Fatal(err)
	}
	got, err := n.s.ClosedPartAt(earlier)
	if err != nil {
		t.Fatal(err)
	}
	table := func(b []byte) map[string]ClosedProposal {
		var c closedSet
		if err := c.unmarshal(b); err != nil {
			t.Fatal(err)
		}
		m := map[string]ClosedProposal{}
		for p := range c.each {
			m[p.ID] = p
		}
		return m
	}
	if w, g := table(want), table(got); !reflect.DeepEqual(w, g) || len(g) == 0 {
		t.Fatalf("cut at event %d: %d closed proposals, want %d", earlier, len(g), len(w))
	}
	if _, ok := table(got)[open]; ok {
		t.Fatal("a proposal closed after the cut is in it")
	}
	if all, err := n.s.ClosedPartAt(n.s.Events); err != nil || !reflect.DeepEqual(table(all), table(later)) {
		t.Fatalf("a cut at the end is not the whole table: %v", err)
	}
	var bad State
	if err := bad.UnmarshalParts(mustPresent(t, &n.s), func() ([]byte, error) { return later[:len(later)/2], nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.ClosedPartAt(earlier); err == nil {
		t.Fatal("a truncated part was cut without complaint")
	}
}

func mustPresent(t *testing.T, s *State) []byte {
	t.Helper()
	present, _, err := s.MarshalParts()
	if err != nil {
		t.Fatal(err)
	}
	return present
}

// A state restored from parts is checkpointed again by its present part
// alone, carrying the proposals closed since its closed part: restored from
// the new present and the old closed part, it is the state itself.
func TestMarshalPresent(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE"})
	for i := range 40 {
		n.agree(fmt.Sprintf("c%d", i%9), fmt.Sprintf("Text %d.", i))
	}
	if _, ok, err := n.s.MarshalPresent(); ok || err != nil {
		t.Fatalf("a state folded from the start has no closed part to refer to: ok %v, %v", ok, err)
	}
	present, closed, err := n.s.MarshalParts()
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	load := func() ([]byte, error) { loads++; return closed, nil }
	var s State
	if err := s.UnmarshalParts(present, load); err != nil {
		t.Fatal(err)
	}
	// Both go on: proposals adopted, withdrawn, and left open.
	for _, st := range []*State{&n.s, &s} {
		m := &negotiation{t: t, s: *st, ids: 1000}
		for i := range 30 {
			if i%5 == 0 {
				m.do(Withdraw{Proposal: m.table("US", fmt.Sprintf("w%d", i), "Gone."), Party: "US"})
			}
			m.agree(fmt.Sprintf("d%d", i%4), fmt.Sprintf("More %d.", i))
		}
		m.table("EU", "d1", "Open.")
		*st = m.s
	}
	again, ok, err := s.MarshalPresent()
	if !ok || err != nil {
		t.Fatalf("MarshalPresent: ok %v, %v", ok, err)
	}
	if loads != 0 {
		t.Fatalf("the closed part was read %d times", loads)
	}
	var back State
	if err := back.UnmarshalParts(again, load); err != nil {
		t.Fatal(err)
	}
	if !sameState(&back, &n.s) {
		t.Fatal("restored from the new present and the old closed part, the state differs")
	}
	if _, ok, _ := back.MarshalPresent(); !ok {
		t.Fatal("a state restored that way cannot be checkpointed the same way again")
	}
	// A state that closed too many proposals since needs both parts again.
	m := &negotiation{t: t, s: back, ids: 5000}
	for i := range maxCarried + 1 {
		m.do(Withdraw{Proposal: m.table("UA", fmt.Sprintf("x%d", i%50), "X."), Party: "UA"})
	}
	if _, ok, err := m.s.MarshalPresent(); ok || err != nil {
		t.Fatalf("%d proposals closed since the closed part, yet ok %v, %v", maxCarried+1, ok, err)
	}
}

// Acting on an open proposal by a prefix reads no closed proposal, even when
// closed ones share the prefix; a prefix only closed ones have is looked up
// among them, so that the refusal says what became of the proposal.
func TestFindOpenProposal(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE"})
	for i, id := range []string{"3f2a0000-adopted", "3f2b0000-withdrawn"} {
		n.do(Table{Proposal: id, Clause: fmt.Sprintf("c%d", i), Party: "UA", Text: "x"})
	}
	n.do(Accept{Proposal: "3f2a0000-adopted", Party: "US"})
	n.do(Accept{Proposal: "3f2a0000-adopted", Party: "EU"})
	n.do(Withdraw{Proposal: "3f2b0000-withdrawn", Party: "UA"})
	n.do(Table{Proposal: "3f2a9999-open", Clause: "c9", Party: "US", Text: "y"})
	n.do(Table{Proposal: "77770000-open", Clause: "c7", Party: "US", Text: "z"})
	n.do(Table{Proposal: "77771111-open", Clause: "c8", Party: "US", Text: "z"})
	present, closed, err := n.s.MarshalParts()
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	var s State
	if err := s.UnmarshalParts(present, func() ([]byte, error) { loads++; return closed, nil }); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"3f2a", "3F2A9", "3f2a9999-open", "77770"} {
		p, err := s.FindOpenProposal(ref)
		if err != nil || p.Status != StatusOpen || !strings.HasPrefix(p.Proposal, strings.ToLower(ref)) {
			t.Errorf("FindOpenProposal(%q) = %v, %v", ref, p, err)
		}
	}
	if loads != 0 {
		t.Fatalf("the closed proposals were read %d times to find open ones", loads)
	}
	if p, err := s.FindOpenProposal("3f2b"); err != nil || p.Status != StatusWithdrawn {
		t.Errorf("a prefix of a withdrawn proposal alone: %v, %v", p, err)
	}
	if _, err := s.FindOpenProposal("7777"); !strings.Contains(fmt.Sprint(err), "ambiguous") {
		t.Errorf("a prefix of two open proposals: %v", err)
	}
	for ref, code := range map[string]string{"3f2": EINVALID, "dead": ENOTFOUND} {
		if _, err := s.FindOpenProposal(ref); ErrorCode(err) != code {
			t.Errorf("FindOpenProposal(%q) = %v, want %s", ref, err, code)
		}
	}
}
