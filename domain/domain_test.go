package domain

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// negotiation drives the rules the way the command line does: Decide, then
// Evolve every event decided.
type negotiation struct {
	t   *testing.T
	s   State
	log []Event
	ids int
}

func newNegotiation(t *testing.T, parties ...Party) *negotiation {
	t.Helper()
	if parties == nil {
		parties = []Party{
			{Code: "UA", Name: "Ukraine", Role: RoleParty},
			{Code: "US", Name: "United States", Role: RoleParty},
			{Code: "EU", Name: "European Union", Role: RoleParty},
			{Code: "DE", Name: "Germany", Role: RoleObserver},
		}
	}
	n := &negotiation{t: t}
	n.do(OpenTreaty{Treaty: "berlin", Title: "Berlin Framework", Parties: parties})
	return n
}

func (n *negotiation) do(c Command) []Event {
	n.t.Helper()
	evs, err := Decide(&n.s, c)
	if err != nil {
		n.t.Fatalf("Decide(%#v): %v", c, err)
	}
	for _, e := range evs {
		if err := n.s.Evolve(e); err != nil {
			n.t.Fatalf("Evolve(%#v) after Decide(%#v): %v", e, c, err)
		}
	}
	n.log = append(n.log, evs...)
	checkLinkageIndexes(n.t, &n.s)
	return evs
}

// checkLinkageIndexes checks that the indexes the linkage rules keep as
// they go (candidates, conditioned) hold what a rebuild from the proposals
// gives.
func checkLinkageIndexes(t testing.TB, s *State) {
	t.Helper()
	ready, linked := s.candidates(), s.conditioned()
	fresh := State{Parties: s.Parties, Proposals: s.Proposals}
	if !maps.Equal(ready, fresh.candidates()) || !maps.Equal(linked, fresh.conditioned()) {
		t.Fatalf("the linkage indexes drifted: candidates %v, rebuilt %v; conditioned %v, rebuilt %v",
			ready, fresh.candidates(), linked, fresh.conditioned())
	}
}

// dump encodes the whole state, indexes and the closed proposals
// included, so that two states compare by everything they hold.
func dump(t testing.TB, s *State) string {
	t.Helper()
	var closed []ClosedProposal
	for c, err := range s.ClosedProposals() {
		if err != nil {
			t.Fatal(err)
		}
		closed = append(closed, c)
	}
	sort.Slice(closed, func(i, j int) bool { return closed[i].ID < closed[j].ID })
	b, err := json.Marshal(struct {
		State    State
		Closed   []ClosedProposal
		Due      []string
		ByClause map[string][]string
	}{*s, closed, s.due, s.index()})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refuse checks that c is refused with the code and a message holding every
// fragment, with no events, and that nothing in the state changed.
func (n *negotiation) refuse(c Command, code string, fragments ...string) {
	n.t.Helper()
	before := dump(n.t, &n.s)
	evs, err := Decide(&n.s, c)
	if err == nil {
		n.t.Fatalf("Decide(%#v) = %v, want refusal %s", c, evs, code)
	}
	if evs != nil {
		n.t.Fatalf("refusal %v came with events %v", err, evs)
	}
	if got := ErrorCode(err); got != code {
		n.t.Fatalf("Decide(%#v) refused with code %q (%v), want %q", c, got, err, code)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			n.t.Errorf("refusal %q does not mention %q", err, f)
		}
	}
	if after := dump(n.t, &n.s); after != before {
		n.t.Fatalf("refusal changed the state:\n%s\n%s", before, after)
	}
}

// table tables text on a clause for a party and returns the proposal ID.
func (n *negotiation) table(party, clause, text string, opts ...func(*Table)) string {
	n.t.Helper()
	n.ids++
	id := fmt.Sprintf("p%04d-0000", n.ids)
	c := Table{Proposal: id, Clause: clause, Party: party, Text: text}
	for _, o := range opts {
		o(&c)
	}
	n.do(c)
	return id
}

func (n *negotiation) nextID() string { return fmt.Sprintf("p%04d-0000", n.ids+1) }

func after(id string) func(*Table) { return func(c *Table) { c.After = id } }
func first(c *Table)               { c.First = true }
func deletion(c *Table)            { c.Delete, c.Text = true, "" }
func heading(h string) func(*Table) {
	return func(c *Table) { c.Heading = &h }
}

// agree tables text and has every other party accept it.
func (n *negotiation) agree(clause, text string, opts ...func(*Table)) string {
	n.t.Helper()
	id := n.table("UA", clause, text, opts...)
	n.do(Accept{Proposal: id, Party: "US"})
	n.do(Accept{Proposal: id, Party: "EU"})
	if p, _, _ := n.s.LookupProposal(id); p.Status != StatusAdopted {
		n.t.Fatalf("proposal %s not adopted after every party accepted", id)
	}
	return id
}

func (n *negotiation) order() string {
	var ids []string
	for _, c := range n.s.Draft() {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, " ")
}

func types(evs []Event) []string {
	var ts []string
	for _, e := range evs {
		ts = append(ts, e.EventType())
	}
	return ts
}

func TestOpenTreatyRefusals(t *testing.T) {
	ua := Party{Code: "UA", Name: "Ukraine", Role: RoleParty}
	tests := []struct {
		name string
		cmd  OpenTreaty
		code string
		want string
	}{
		{"bad treaty ID", OpenTreaty{Treaty: "berlin/2026", Title: "T", Parties: []Party{ua}}, EINVALID, "treaty ID"},
		{"long treaty ID", OpenTreaty{Treaty: strings.Repeat("a", 65), Title: "T", Parties: []Party{ua}}, EINVALID, "limit is 64"},
		{"no title", OpenTreaty{Treaty: "b", Title: "  ", Parties: []Party{ua}}, EINVALID, "needs a title"},
		{"title with control byte", OpenTreaty{Treaty: "b", Title: "T\x00", Parties: []Party{ua}}, EINVALID, "control character"},
		{"no parties", OpenTreaty{Treaty: "b", Title: "T"}, EINVALID, "at least one party"},
		{"observers only", OpenTreaty{Treaty: "b", Title: "T", Parties: []Party{{Code: "DE", Role: RoleObserver}}}, EINVALID, "at least one party"},
		{"party twice", OpenTreaty{Treaty: "b", Title: "T", Parties: []Party{ua, ua}}, EINVALID, "listed twice"},
		{"bad code", OpenTreaty{Treaty: "b", Title: "T", Parties: []Party{{Code: "U A", Role: RoleParty}}}, EINVALID, "party code"},
		{"bad role", OpenTreaty{Treaty: "b", Title: "T", Parties: []Party{{Code: "UA", Role: "chair"}}}, EINVALID, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			_, err := Decide(&s, tt.cmd)
			if ErrorCode(err) != tt.code || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Fatalf("got %v (code %q), want %s mentioning %q", err, ErrorCode(err), tt.code, tt.want)
			}
		})
	}
	n := newNegotiation(t)
	n.refuse(OpenTreaty{Treaty: "berlin", Title: "Again", Parties: []Party{ua}}, ECONFLICT, "already exists")
}

func TestCommandsBeforeOpening(t *testing.T) {
	var s State
	_, err := Decide(&s, OpenRound{Party: "UA"})
	if ErrorCode(err) != ENOTFOUND || ErrorReason(err) != ReasonNotOpened || !strings.Contains(err.Error(), "not open yet") {
		t.Fatalf("got %v", err)
	}
	if err := s.Evolve(RoundOpened{Round: 1}); err == nil {
		t.Fatal("Evolve accepted an event before TreatyOpened")
	}
}

func TestRounds(t *testing.T) {
	n := newNegotiation(t)
	n.refuse(CloseRound{Party: "DE"}, ECONFLICT, "no round is open")
	n.refuse(OpenRound{Party: "XX"}, EFORBIDDEN, "not a participant")
	n.refuse(OpenRound{}, EINVALID, "no acting participant")
	evs := n.do(OpenRound{Party: "DE", Name: " Berlin I "})
	if want := []Event{RoundOpened{Round: 1, Name: "Berlin I"}}; !reflect.DeepEqual(evs, want) {
		t.Fatalf("got %#v, want %#v", evs, want)
	}
	if n.s.OpenRound() != 1 {
		t.Fatalf("OpenRound = %d", n.s.OpenRound())
	}
	n.refuse(OpenRound{Party: "DE"}, ECONFLICT, "round 1 is still open")
	if got := n.s.RoundOf(ProposalAccepted{}); got != 1 {
		t.Fatalf("RoundOf during round 1 = %d", got)
	}
	if got := n.s.RoundOf(RoundClosed{Round: 1}); got != 1 {
		t.Fatalf("RoundClosed belongs to round %d", got)
	}
	n.do(CloseRound{Party: "UA"})
	if n.s.OpenRound() != 0 || n.s.RoundOf(ProposalAccepted{}) != 0 {
		t.Fatal("a round is still open after closing")
	}
	if got := n.s.RoundOf(RoundOpened{Round: 2}); got != 2 {
		t.Fatalf("RoundOpened belongs to round %d", got)
	}
	evs = n.do(OpenRound{Party: "US"})
	if evs[0].(RoundOpened).Round != 2 {
		t.Fatalf("second round numbered %d", evs[0].(RoundOpened).Round)
	}
	want := []Round{{Number: 1, Name: "Berlin I", Opened: 2, Closed: 3}, {Number: 2, Opened: 4}}
	if !reflect.DeepEqual(n.s.Rounds, want) {
		t.Fatalf("rounds %+v, want %+v", n.s.Rounds, want)
	}
	var s State
	for _, e := range []Event{n.log[0], RoundOpened{Round: 2}} {
		if err := s.Evolve(e); err != nil && e.EventType() == TypeTreatyOpened {
			t.Fatal(err)
		} else if err == nil && e.EventType() == TypeRoundOpened {
			t.Fatal("Evolve accepted round 2 as the first round")
		}
	}
}

func TestUnanimityAdopts(t *testing.T) {
	n := newNegotiation(t)
	id := n.table("UA", "security", "The Parties shall consult.")
	p := n.s.Proposals[id]
	if got := n.s.AcceptedBy(p); !reflect.DeepEqual(got, []string{"UA"}) {
		t.Fatalf("proposer does not count as accepting: %v", got)
	}
	if evs := n.do(Accept{Proposal: id, Party: "US"}); len(evs) != 1 {
		t.Fatalf("adopted before EU accepted: %v", types(evs))
	}
	if got := n.s.Awaiting(p); !reflect.DeepEqual(got, []string{"EU"}) {
		t.Fatalf("awaiting %v", got)
	}
	evs := n.do(Accept{Proposal: id, Party: "EU"})
	want := []Event{ProposalAccepted{Proposal: id, Party: "EU"}, ProposalAdopted{Proposal: id, Clause: "security", Revision: 1}}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("got %#v, want %#v", evs, want)
	}
	c := n.s.Clauses["security"]
	if c.Text != "The Parties shall consult." || c.Revision != 1 || !c.Agreed() {
		t.Fatalf("clause after adoption: %+v", c)
	}
	if p.Status != StatusAdopted || len(n.s.OpenProposals("security")) != 0 {
		t.Fatalf("proposal %s still open", p.Status)
	}
	n.refuse(Accept{Proposal: id, Party: "EU"}, ECONFLICT, "already adopted")
	n.refuse(Withdraw{Proposal: id, Party: "UA"}, ECONFLICT, "already adopted")
}

func TestSinglePartyAdoptsOnTabling(t *testing.T) {
	n := newNegotiation(t, Party{Code: "UA", Name: "Ukraine", Role: RoleParty}, Party{Code: "DE", Role: RoleObserver})
	evs := n.do(Table{Proposal: "p1-0000", Clause: "a", Party: "UA", Text: "Text."})
	if got := types(evs); !reflect.DeepEqual(got, []string{TypeProposalTabled, TypeProposalAdopted}) {
		t.Fatalf("got %v", got)
	}
	// An observer's proposal still needs the party.
	evs = n.do(Table{Proposal: "p2-0000", Clause: "b", Party: "DE", Text: "Mediator text."})
	if len(evs) != 1 {
		t.Fatalf("observer's proposal adopted without the party: %v", types(evs))
	}
	if evs := n.do(Accept{Proposal: "p2-0000", Party: "UA"}); len(evs) != 2 {
		t.Fatalf("got %v", types(evs))
	}
}

func TestObservers(t *testing.T) {
	n := newNegotiation(t)
	id := n.table("DE", "mediation", "Germany shall chair the talks.")
	p := n.s.Proposals[id]
	if len(p.Positions) != 0 {
		t.Fatalf("observer's tabling counted as a position: %v", p.Positions)
	}
	n.refuse(Accept{Proposal: id, Party: "DE"}, EFORBIDDEN, "observer")
	n.refuse(Object{Proposal: id, Party: "DE"}, EFORBIDDEN, "observer")
	for _, party := range []string{"UA", "US"} {
		n.do(Accept{Proposal: id, Party: party})
	}
	if evs := n.do(Accept{Proposal: id, Party: "EU"}); len(evs) != 2 {
		t.Fatalf("all three parties accepted but got %v", types(evs))
	}
	id = n.table("DE", "venue", "Berlin.")
	n.refuse(Withdraw{Proposal: id, Party: "UA"}, EFORBIDDEN, "only DE")
	n.do(Withdraw{Proposal: id, Party: "DE"})
}

func TestLatestPositionCounts(t *testing.T) {
	n := newNegotiation(t)
	id := n.table("US", "sanctions", "Sanctions remain until full withdrawal.")
	n.do(Object{Proposal: id, Party: "EU", Reason: "needs a review clause"})
	n.refuse(Object{Proposal: id, Party: "EU"}, ECONFLICT, "already objects")
	if evs := n.do(Accept{Proposal: id, Party: "UA"}); len(evs) != 1 {
		t.Fatalf("adopted over EU's objection: %v", types(evs))
	}
	p := n.s.Proposals[id]
	if got := n.s.ObjectedBy(p); !reflect.DeepEqual(got, []string{"EU"}) {
		t.Fatalf("objected by %v", got)
	}
	if pos := p.Positions.Of("EU"); pos.Reason != "needs a review clause" {
		t.Fatalf("reason lost: %+v", pos)
	}
	// EU changes its mind: its acceptance completes unanimity.
	if evs := n.do(Accept{Proposal: id, Party: "EU"}); len(evs) != 2 {
		t.Fatalf("got %v", types(evs))
	}
	// And a party that accepted may object later, before adoption.
	id = n.table("US", "venue", "Geneva.")
	n.do(Accept{Proposal: id, Party: "UA"})
	n.do(Object{Proposal: id, Party: "UA"})
	if evs := n.do(Accept{Proposal: id, Party: "EU"}); len(evs) != 1 {
		t.Fatalf("adopted although UA's latest position is an objection: %v", types(evs))
	}
	if got := n.s.Awaiting(n.s.Proposals[id]); !reflect.DeepEqual(got, []string{"UA"}) {
		t.Fatalf("awaiting %v", got)
	}
}

func TestPositionRefusals(t *testing.T) {
	n := newNegotiation(t)
	id := n.table("UA", "a", "Text.")
	n.refuse(Accept{Proposal: id, Party: "UA"}, ECONFLICT, "already accepts")
	n.refuse(Object{Proposal: id, Party: "UA"}, EFORBIDDEN, "withdraw")
	n.refuse(Accept{Proposal: id, Party: "RU"}, EFORBIDDEN, "RU is not a participant")
	n.refuse(Accept{Proposal: "nope-0000", Party: "US"}, ENOTFOUND, "no proposal")
	n.refuse(Object{Proposal: id, Party: "US", Reason: "bad\x07"}, EINVALID, "control character")
	n.refuse(Withdraw{Proposal: id, Party: "US"}, EFORBIDDEN, "only UA")
	n.do(Withdraw{Proposal: id, Party: "UA"})
	n.refuse(Accept{Proposal: id, Party: "US"}, ECONFLICT, "withdrawn by UA")
	n.refuse(Withdraw{Proposal: id, Party: "UA"}, ECONFLICT, "withdrawn")
	if n.s.InDraft("a") {
		t.Fatal("a clause whose only proposal was withdrawn is still in the draft")
	}
}

func TestStaleProposals(t *testing.T) {
	n := newNegotiation(t)
	n.agree("guarantees", "The Parties shall consult.")
	us := n.table("US", "guarantees", "The Parties shall consult promptly.")
	eu := n.table("EU", "guarantees", "The Parties shall consult and assist.")
	del := n.table("UA", "guarantees", "", deletion)
	if n.s.Stale(n.s.Proposals[us]) {
		t.Fatal("stale before anything was adopted")
	}
	n.do(Accept{Proposal: eu, Party: "UA"})
	if evs := n.do(Accept{Proposal: eu, Party: "US"}); len(evs) != 2 {
		t.Fatalf("EU's proposal not adopted: %v", types(evs))
	}
	for _, id := range []string{us, del} {
		if !n.s.Stale(n.s.Proposals[id]) {
			t.Fatalf("%s not stale after another proposal on its clause was adopted", id)
		}
	}
	n.refuse(Accept{Proposal: us, Party: "UA"}, ESTALE,
		"stale", "revision 1", `now reads "The Parties shall consult and assist."`, "revision 2")
	n.refuse(Object{Proposal: us, Party: "UA"}, ESTALE, "stale")
	// Stale proposals stay in brackets until withdrawn.
	if got := len(n.s.OpenProposals("guarantees")); got != 2 {
		t.Fatalf("%d open proposals, want the 2 stale ones", got)
	}
	n.do(Withdraw{Proposal: us, Party: "US"})
	// A proposal drafted against the new text is not stale.
	fresh := n.table("US", "guarantees", "The Parties shall consult, assist and report.")
	if n.s.Stale(n.s.Proposals[fresh]) || n.s.Proposals[fresh].BaseRevision != 2 {
		t.Fatal("a proposal against the current revision is stale")
	}
	// After a deletion is adopted, the message says the clause is deleted.
	n.do(Withdraw{Proposal: del, Party: "UA"})
	del = n.table("UA", "guarantees", "", deletion)
	n.do(Accept{Proposal: del, Party: "US"})
	n.do(Accept{Proposal: del, Party: "EU"})
	n.refuse(Accept{Proposal: fresh, Party: "EU"}, ESTALE, "is deleted")
}

func TestTableActions(t *testing.T) {
	n := newNegotiation(t)
	evs := n.do(Table{Proposal: "p-new-0", Clause: "preamble", Party: "UA", Text: "  Recalling the Charter.\n", Note: " first draft "})
	tabled := evs[0].(ProposalTabled)
	if tabled.Action != ActionInsert || tabled.Text != "Recalling the Charter." || tabled.BaseRevision != 0 || tabled.Note != "first draft" {
		t.Fatalf("insert tabled as %+v", tabled)
	}
	n.refuse(Table{Proposal: "p-x", Clause: "preamble", Party: "UA", Delete: true}, ECONFLICT, "no agreed text to delete")
	n.refuse(Table{Proposal: "p-x", Clause: "ghost", Party: "UA", Delete: true}, ENOTFOUND, "not in the draft")
	n.do(Accept{Proposal: "p-new-0", Party: "US"})
	n.do(Accept{Proposal: "p-new-0", Party: "EU"})
	evs = n.do(Table{Proposal: "p-amend", Clause: "preamble", Party: "US", Text: "Recalling the UN Charter."})
	if a := evs[0].(ProposalTabled); a.Action != ActionAmend || a.BaseRevision != 1 {
		t.Fatalf("amendment tabled as %+v", a)
	}
	evs = n.do(Table{Proposal: "p-del", Clause: "preamble", Party: "EU", Delete: true})
	if d := evs[0].(ProposalTabled); d.Action != ActionDelete || d.Text != "" {
		t.Fatalf("deletion tabled as %+v", d)
	}
	n.refuse(Table{Proposal: "p-x", Clause: "preamble", Party: "UA", Text: "Recalling the Charter."}, ECONFLICT, "would change nothing")
	n.refuse(Table{Proposal: "p-x", Clause: "preamble", Party: "UA", Delete: true, First: true}, EINVALID, "deletion")
	n.refuse(Table{Proposal: "p-x", Clause: "bad/id", Party: "UA", Text: "x"}, EINVALID, "clause ID")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: " \n\t"}, EINVALID, "empty")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "a\x00b"}, EINVALID, "control character U+0000")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "a\x1bb"}, EINVALID, "control character")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "a\xffb"}, EINVALID, "not valid UTF-8")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: strings.Repeat("x", 11), MaxText: 10}, EINVALID, "limit is 10 bytes")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: strings.Repeat("x", DefaultMaxText+1)}, EINVALID, "limit is 1048576 bytes")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x", After: "nowhere"}, ENOTFOUND, "nowhere")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x", After: "c"}, EINVALID, "after itself")
	n.refuse(Table{Proposal: "p-x", Clause: "preamble", Party: "UA", Text: "y", After: "preamble"}, EINVALID, "after itself")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x", After: "preamble", First: true}, EINVALID, "either first or after")
	n.refuse(Table{Proposal: "p-amend", Clause: "c", Party: "UA", Text: "x"}, ECONFLICT, "already taken")
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "XX", Text: "x"}, EFORBIDDEN, "not a participant")
	h := "bad\nheading"
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: "x", Heading: &h}, EINVALID, "heading")
	// Tabs and newlines are fine in text; Cyrillic too.
	n.table("UA", "languages", "Текст українською мовою\tє автентичним.\nEnglish too.")
}

func TestPlacement(t *testing.T) {
	n := newNegotiation(t)
	n.agree("a", "A.")
	n.agree("b", "B.")
	n.table("US", "c", "C.") // bracketed, at the end
	n.table("EU", "d", "D.") // after the bracketed clause: it counts
	if got := n.order(); got != "a b c d" {
		t.Fatalf("order %q", got)
	}
	n.table("UA", "zero", "Zero.", first)
	n.table("UA", "a2", "A2.", after("a"))
	if got := n.order(); got != "zero a a2 b c d" {
		t.Fatalf("order %q", got)
	}
	// Adoption keeps the place taken at tabling, even if clauses were
	// placed after the same clause since.
	n.table("UA", "a3", "A3.", after("a"))
	if got := n.order(); got != "zero a a3 a2 b c d" {
		t.Fatalf("order %q", got)
	}
	a2 := n.s.Proposals[fmt.Sprintf("p%04d-0000", 6)]
	if a2.Clause != "a2" {
		t.Fatalf("looked up the wrong proposal %s", a2.Clause)
	}
	n.do(Accept{Proposal: a2.Proposal, Party: "US"})
	n.do(Accept{Proposal: a2.Proposal, Party: "EU"})
	if got := n.order(); got != "zero a a3 a2 b c d" {
		t.Fatalf("order after adoption %q", got)
	}
	// An amendment with a place moves its clause when adopted, not before.
	mv := n.table("UA", "b", "B moved.", first)
	if got := n.order(); got != "zero a a3 a2 b c d" {
		t.Fatalf("moved before adoption: %q", got)
	}
	n.do(Accept{Proposal: mv, Party: "US"})
	n.do(Accept{Proposal: mv, Party: "EU"})
	if got := n.order(); got != "b zero a a3 a2 c d" {
		t.Fatalf("order after move %q", got)
	}
	// A deleted clause leaves the draft; tabled again, it goes to the end.
	n.agree("a", "", deletion)
	if n.s.InDraft("a") || n.s.Clauses["a"].Revision != 2 || !n.s.Clauses["a"].Deleted {
		t.Fatalf("deleted clause: %+v", n.s.Clauses["a"])
	}
	if got := n.order(); got != "b zero a3 a2 c d" {
		t.Fatalf("order after deletion %q", got)
	}
	evs := n.do(Table{Proposal: "p-back", Clause: "a", Party: "US", Text: "A again."})
	if tb := evs[0].(ProposalTabled); tb.Action != ActionInsert || tb.BaseRevision != 2 {
		t.Fatalf("re-insertion tabled as %+v", tb)
	}
	if got := n.order(); got != "b zero a3 a2 c d a" {
		t.Fatalf("order after re-insertion %q", got)
	}
}

func TestHeadings(t *testing.T) {
	n := newNegotiation(t)
	n.agree("art1", "Text.", heading("Security guarantees"))
	if h := n.s.Clauses["art1"].Heading; h != "Security guarantees" {
		t.Fatalf("heading %q", h)
	}
	n.agree("art1", "New text.")
	if h := n.s.Clauses["art1"].Heading; h != "Security guarantees" {
		t.Fatalf("an amendment without a heading changed it to %q", h)
	}
	n.agree("art1", "New text.", heading("Guarantees"))
	if c := n.s.Clauses["art1"]; c.Heading != "Guarantees" || c.Revision != 3 {
		t.Fatalf("heading-only amendment: %+v", c)
	}
	// A rival insertion's heading does not stick to the clause.
	n.table("US", "art2", "US text.", heading("US heading"))
	eu := n.table("EU", "art2", "EU text.")
	n.do(Accept{Proposal: eu, Party: "UA"})
	n.do(Accept{Proposal: eu, Party: "US"})
	if c := n.s.Clauses["art2"]; c.Heading != "" || c.Text != "EU text." {
		t.Fatalf("clause took a heading from a proposal that was not adopted: %+v", c)
	}
}

func TestEvolveRefusesWhatDecideWouldNot(t *testing.T) {
	open := TreatyOpened{Treaty: "t", Title: "T", Parties: []Party{{Code: "A", Role: RoleParty}, {Code: "B", Role: RoleParty}}}
	tabled := ProposalTabled{Proposal: "p1", Clause: "c", Party: "A", Action: ActionInsert, Text: "x"}
	tests := []struct {
		name string
		log  []Event
		want string
	}{
		{"adoption without unanimity", []Event{open, tabled, ProposalAdopted{Proposal: "p1", Clause: "c", Revision: 1}}, "without every party"},
		{"unanimity without adoption", []Event{open, tabled, ProposalAccepted{Proposal: "p1", Party: "B"}, RoundOpened{Round: 1}}, "does not adopt"},
		{"adoption of the wrong revision", []Event{open, tabled, ProposalAccepted{Proposal: "p1", Party: "B"}, ProposalAdopted{Proposal: "p1", Clause: "c", Revision: 2}}, "revision"},
		{"amend of a new clause", []Event{open, ProposalTabled{Proposal: "p1", Clause: "c", Party: "A", Action: ActionAmend, Text: "x"}}, "calls for insert"},
		{"wrong base revision", []Event{open, ProposalTabled{Proposal: "p1", Clause: "c", Party: "A", Action: ActionInsert, Text: "x", BaseRevision: 3}}, "revision 3"},
		{"second opening", []Event{open, open}, "already open"},
		{"round skipped", []Event{open, RoundOpened{Round: 2}}, "round 1 was next"},
		{"wrong round closed", []Event{open, RoundOpened{Round: 1}, RoundClosed{Round: 2}}, "round 2 closed"},
		{"withdrawal by another party", []Event{open, tabled, ProposalWithdrawn{Proposal: "p1", Party: "B"}}, "only A"},
		{"acceptance by a stranger", []Event{open, tabled, ProposalAccepted{Proposal: "p1", Party: "Z"}}, "not a participant"},
		{"proposal ID reused", []Event{open, tabled, tabled}, "already taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			last := len(tt.log) - 1
			for i, e := range tt.log[:last] {
				if err := s.Evolve(e); err != nil {
					t.Fatalf("event %d refused early: %v", i+1, err)
				}
			}
			before := dump(t, &s)
			err := s.Evolve(tt.log[last])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a refusal mentioning %q", err, tt.want)
			}
			if after := dump(t, &s); after != before {
				t.Fatalf("the refused event changed the state:\n%s\n%s", before, after)
			}
		})
	}
	var s State
	for _, e := range []Event{open, tabled, ProposalAccepted{Proposal: "p1", Party: "B"}} {
		if err := s.Evolve(e); err != nil {
			t.Fatal(err)
		}
	}
	if s.Due() != "p1" {
		t.Fatalf("Due = %q after the completing acceptance", s.Due())
	}
}

func TestDecideLeavesStateAlone(t *testing.T) {
	n := newNegotiation(t)
	id := n.table("UA", "a", "A.")
	n.do(Accept{Proposal: id, Party: "US"})
	before := dump(t, &n.s)
	for _, c := range []Command{
		Accept{Proposal: id, Party: "EU"},
		Object{Proposal: id, Party: "EU"},
		Withdraw{Proposal: id, Party: "UA"},
		Table{Proposal: "new-0001", Clause: "b", Party: "US", Text: "B.", First: true},
		OpenRound{Party: "DE"},
	} {
		if _, err := Decide(&n.s, c); err != nil {
			t.Fatalf("Decide(%#v): %v", c, err)
		}
	}
	if after := dump(t, &n.s); after != before {
		t.Fatalf("Decide changed the state:\n%s\n%s", before, after)
	}
}

func TestFindProposal(t *testing.T) {
	n := newNegotiation(t)
	for _, id := range []string{"3f2a91c0-aaaa", "3f2b0000-bbbb", "77aa0000-cccc"} {
		n.do(Table{Proposal: id, Clause: "c" + id[:4], Party: "UA", Text: "x"})
	}
	for _, tt := range []struct{ ref, want, code string }{
		{"3f2a", "3f2a91c0-aaaa", ""},
		{"3F2A91", "3f2a91c0-aaaa", ""},
		{"77aa0000-cccc", "77aa0000-cccc", ""},
		{"3f2", "", EINVALID},
		{"3f2", "", EINVALID},
		{"3f2a9", "3f2a91c0-aaaa", ""},
		{"3f", "", EINVALID},
		{"dead", "", ENOTFOUND},
	} {
		p, err := n.s.FindProposal(tt.ref)
		switch {
		case tt.code != "" && ErrorCode(err) != tt.code:
			t.Errorf("FindProposal(%q) = %v, want code %s", tt.ref, err, tt.code)
		case tt.code == "" && (err != nil || p.Proposal != tt.want):
			t.Errorf("FindProposal(%q) = %v, %v; want %s", tt.ref, p, err, tt.want)
		}
	}
	if _, err := n.s.FindProposal("3f2"); !strings.Contains(fmt.Sprint(err), "at least 4") {
		t.Errorf("short prefix: %v", err)
	}
	n.do(Table{Proposal: "3f2a0000-dddd", Clause: "other", Party: "UA", Text: "x"})
	if _, err := n.s.FindProposal("3f2a"); !strings.Contains(fmt.Sprint(err), "ambiguous") || !strings.Contains(err.Error(), "3f2a0000-dddd") {
		t.Errorf("ambiguous prefix: %v", err)
	}
}

func TestCheckSlug(t *testing.T) {
	for _, ok := range []string{"a", "UA", "security-guarantees", strings.Repeat("x", 64), "0-9"} {
		if err := CheckSlug("clause ID", ok); err != nil {
			t.Errorf("CheckSlug(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "..", "a b", `"q"`, "a_b", "Україна", strings.Repeat("x", 65), "a\x00"} {
		if err := CheckSlug("clause ID", bad); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "clause ID") {
			t.Errorf("CheckSlug(%q) = %v, want an invalid-input error naming the clause ID", bad, err)
		}
	}
}

func TestClosedProposalsAreCompact(t *testing.T) {
	for _, keep := range []bool{false, true} {
		n := &negotiation{t: t, s: State{KeepClosed: keep}}
		n.do(OpenTreaty{Treaty: "t", Title: "T", Parties: []Party{{Code: "UA", Role: RoleParty}, {Code: "US", Role: RoleParty}}})
		adopted := n.table("UA", "a", "A.")
		n.do(Accept{Proposal: adopted, Party: "US"})
		withdrawn := n.table("US", "b", "B.")
		n.do(Withdraw{Proposal: withdrawn, Party: "US"})
		open := n.table("US", "c", "C.")
		if _, whole := n.s.Proposals[adopted]; whole != keep {
			t.Fatalf("KeepClosed=%v: adopted proposal kept whole: %v", keep, whole)
		}
		p, ok, err := n.s.LookupProposal(adopted)
		if err != nil || !ok || p.Status != StatusAdopted || p.Closed != 4 || p.Party != "UA" || p.Clause != "a" {
			t.Fatalf("closed record: %+v", p)
		}
		if (p.Text != "") == !keep {
			t.Fatalf("KeepClosed=%v: closed proposal text %q", keep, p.Text)
		}
		all := map[string]Status{}
		for p, err := range n.s.AllProposals() {
			if err != nil {
				t.Fatal(err)
			}
			all[p.Proposal] = p.Status
		}
		if len(all) != 3 || all[adopted] != StatusAdopted || all[withdrawn] != StatusWithdrawn || all[open] != StatusOpen {
			t.Fatalf("AllProposals: %v", all)
		}
		// Closed proposals still take part in prefix resolution and refusals.
		if _, err := n.s.FindProposal("p000"); !strings.Contains(fmt.Sprint(err), "ambiguous") {
			t.Fatalf("prefix shared with closed proposals: %v", err)
		}
		n.refuse(Accept{Proposal: withdrawn, Party: "UA"}, ECONFLICT, "withdrawn by US (event 6)")
		n.refuse(Table{Proposal: adopted, Clause: "z", Party: "UA", Text: "x"}, ECONFLICT, "already taken")
	}
}

func TestBaseText(t *testing.T) {
	n := newNegotiation(t)
	n.agree("a", "A.")
	us := n.table("US", "a", "A, amended by US.")
	eu := n.table("EU", "a", "A, amended by EU.")
	n.do(Accept{Proposal: eu, Party: "UA"})
	n.do(Accept{Proposal: eu, Party: "US"})
	p := n.s.Proposals[us]
	if !n.s.Stale(p) || p.BaseText != "A." || p.BaseRevision != 1 {
		t.Fatalf("stale proposal: base %q at revision %d, stale %v", p.BaseText, p.BaseRevision, n.s.Stale(p))
	}
	fresh := n.table("UA", "a", "A, amended again.")
	if got := n.s.Proposals[fresh].BaseText; got != "A, amended by EU." {
		t.Fatalf("base text of a proposal on the current text: %q", got)
	}
	if got := n.s.Proposals[n.table("UA", "new", "New.")].BaseText; got != "" {
		t.Fatalf("base text of an insertion: %q", got)
	}
}

// A state whose indexes are gone (as when it is restored from its exported
// fields) rebuilds them and goes on exactly like the original.
func TestStateFromExportedFields(t *testing.T) {
	n := newNegotiation(t)
	n.agree("a", "A.")
	x := n.table("US", "a", "A by US.")
	y := n.table("EU", "a", "A by EU.")
	n.table("EU", "b", "B.")
	restored := n.s
	restored.byClause = nil
	if dump(t, &restored) != dump(t, &n.s) {
		t.Fatal("the rebuilt index differs")
	}
	if got := restored.OpenProposals("a"); len(got) != 2 || got[0].Proposal != x || got[1].Proposal != y {
		t.Fatalf("open proposals of a, rebuilt: %v", got)
	}
}

func TestCheckLink(t *testing.T) {
	var prev string
	var metas []Meta
	var raws [][]byte
	for i, e := range []Event{TreatyOpened{Treaty: "t", Title: "T", Parties: []Party{{Code: "A", Role: RoleParty}}}, RoundOpened{Round: 1}} {
		sealed, err := SealEvent(e, Meta{Party: "A", Round: i, ID: fmt.Sprintf("id-%d", i)}, prev, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := DecodeMeta(sealed.Metadata)
		h, err := CheckLink(prev, m.ID, sealed.Type, sealed.Data, sealed.Metadata, m)
		if err != nil || h != sealed.Hash {
			t.Fatalf("event %d: %v, %s", i+1, err, h)
		}
		prev = h
		metas, raws = append(metas, m), append(raws, sealed.Metadata)
	}
	if _, err := CheckLink("", "id-1", TypeRoundOpened, []byte(`{"round":1}`), raws[1], metas[1]); err == nil || !strings.Contains(err.Error(), "events before it were deleted") {
		t.Fatalf("second event checked as the first: %v", err)
	}
	if _, err := CheckLink(metas[1].Hash, "id-1", TypeRoundOpened, []byte(`{"round":1}`), raws[1], metas[1]); err == nil || !strings.Contains(err.Error(), "deleted, inserted or moved") {
		t.Fatalf("event chained after itself: %v", err)
	}
	if _, err := CheckLink(metas[0].Hash, "id-1", TypeRoundOpened, []byte(`{"round":2}`), raws[1], metas[1]); err == nil || !strings.Contains(err.Error(), "changed after it was written") {
		t.Fatalf("changed data: %v", err)
	}
	if _, err := CheckLink(metas[0].Hash, "id-1", TypeRoundOpened, []byte(`{"round":1}`), raws[1], Meta{}); err == nil || !strings.Contains(err.Error(), "no hash") {
		t.Fatalf("no hash: %v", err)
	}
	if _, err := CheckLink(metas[0].Hash, "another-id", TypeRoundOpened, []byte(`{"round":1}`), raws[1], metas[1]); err == nil || !strings.Contains(err.Error(), "its ID was changed") {
		t.Fatalf("a changed ID: %v", err)
	}
}

// TestPositions: a proposal's positions are kept one per party, sorted by
// party code, whatever order they are taken in; a party's new position
// replaces its old one; a party with none has the zero Position.
func TestPositions(t *testing.T) {
	var ps Positions
	ps.Set("US", Position{Stance: Accepts, Event: 3})
	ps.Set("EU", Position{Stance: Objects, Event: 4})
	ps.Set("UA", Position{Stance: Accepts, Event: 5})
	ps.Set("EU", Position{Stance: Accepts, Event: 6})
	var order []string
	for _, p := range ps {
		order = append(order, p.Party)
	}
	if !slices.Equal(order, []string{"EU", "UA", "US"}) {
		t.Fatalf("parties in %v, want sorted, each once", order)
	}
	if pos, ok := ps.Lookup("EU"); !ok || pos.Stance != Accepts || pos.Event != 6 {
		t.Fatalf("EU's position %+v, %v: want its latest", pos, ok)
	}
	if pos, ok := ps.Lookup("DE"); ok || pos.Stance != "" || pos.Event != 0 || ps.Of("DE").Stance != "" {
		t.Fatalf("an observer's position: %+v, %v", pos, ok)
	}
	ps.Keep(func(party string) bool { return party != "UA" })
	if _, ok := ps.Lookup("UA"); ok || len(ps) != 2 {
		t.Fatalf("after dropping UA: %+v", ps)
	}
	ps.Keep(func(string) bool { return false })
	if ps != nil {
		t.Fatalf("none kept: %#v, want nil, as a proposal with no position has (and a checkpoint restores)", ps)
	}
}
