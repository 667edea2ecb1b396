package domain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func (n *negotiation) accept(id, party string, subjectTo ...string) []Event {
	n.t.Helper()
	return n.do(Accept{Proposal: id, Party: party, SubjectTo: subjectTo})
}

func (n *negotiation) statusOf(id string) Status {
	n.t.Helper()
	p, ok, err := n.s.LookupProposal(id)
	if err != nil || !ok {
		n.t.Fatalf("no proposal %s: %v", id, err)
	}
	return p.Status
}

// The Berlin linkage: UA renounces its NATO bid only if the guarantees are
// binding. Its acceptance counts once the guarantees are adopted, and their
// adoption adopts the renunciation in the same append.
func TestConditionalAcceptance(t *testing.T) {
	n := newNegotiation(t)
	nato := n.table("US", "nato", "Ukraine shall not seek membership of NATO.")
	guarantees := n.table("UA", "guarantees", "The guarantees are legally binding.")
	n.accept(nato, "EU")
	if evs := n.accept(nato, "UA", guarantees); len(evs) != 1 {
		t.Fatalf("a conditional acceptance adopted at once: %v", types(evs))
	}
	if n.statusOf(nato) != StatusOpen {
		t.Fatal("adopted before its condition")
	}
	if c := n.s.Conditional(n.s.Proposals[nato]); len(c) != 1 || c[0].Party != "UA" || c[0].SubjectTo[0] != guarantees {
		t.Fatalf("conditional: %+v", c)
	}
	n.accept(guarantees, "US")
	evs := n.accept(guarantees, "EU")
	if got := types(evs); !slices.Equal(got, []string{TypeProposalAccepted, TypeProposalAdopted, TypeProposalAdopted}) {
		t.Fatalf("the condition's adoption: %v", got)
	}
	if evs[1].(ProposalAdopted).Proposal != nato || evs[2].(ProposalAdopted).Proposal != guarantees {
		t.Fatalf("adoptions in tabling order: %+v", evs[1:])
	}
	if n.statusOf(nato) != StatusAdopted || n.statusOf(guarantees) != StatusAdopted {
		t.Fatal("not both adopted")
	}
	// Conditions that can never be met are refused at once.
	x := n.table("US", "x", "X.")
	n.refuse(Accept{Proposal: x, Party: "UA", SubjectTo: []string{x}}, EINVALID, "subject to itself")
	n.refuse(Accept{Proposal: x, Party: "UA", SubjectTo: []string{"nope"}}, ENOTFOUND, "no proposal")
	gone := n.table("UA", "y", "Y.")
	n.do(Withdraw{Proposal: gone, Party: "UA"})
	n.refuse(Accept{Proposal: x, Party: "UA", SubjectTo: []string{gone}}, ECONFLICT, "could never count")
}

// Three proposals linked in a cycle form a package: nothing is adopted
// until the last acceptance, and then all three together, in one append.
func TestPackageOfThree(t *testing.T) {
	n := newNegotiation(t)
	a := n.table("UA", "a", "A.")
	b := n.table("US", "b", "B.")
	c := n.table("EU", "c", "C.")
	n.accept(a, "US", b)
	n.accept(a, "EU", c)
	n.accept(b, "UA", c)
	n.accept(b, "EU")
	n.accept(c, "UA", a)
	for _, id := range []string{a, b, c} {
		if n.statusOf(id) != StatusOpen {
			t.Fatalf("%s adopted before the package was complete", id)
		}
	}
	evs := n.accept(c, "US", a, b)
	if got := types(evs); !slices.Equal(got, []string{TypeProposalAccepted, TypeProposalAdopted, TypeProposalAdopted, TypeProposalAdopted}) {
		t.Fatalf("the package's last acceptance: %v", got)
	}
	for _, id := range []string{a, b, c} {
		if n.statusOf(id) != StatusAdopted {
			t.Fatalf("%s not adopted with its package", id)
		}
	}
	// Evolve holds the package together: an adoption missing from the
	// append is refused.
	var s State
	for _, e := range n.log[:len(n.log)-2] {
		if err := s.Evolve(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Evolve(RoundOpened{Round: 1}); err == nil || !strings.Contains(err.Error(), "does not adopt it") {
		t.Fatalf("a package left half adopted: %v", err)
	}
}

// A condition withdrawn, or gone stale, ends the acceptance subject to it:
// the party is awaited again, and the views can say why.
func TestLapsedCondition(t *testing.T) {
	n := newNegotiation(t)
	p := n.table("US", "p", "P.")
	q := n.table("UA", "q", "Q.")
	n.accept(p, "UA", q)
	n.do(Withdraw{Proposal: q, Party: "UA"})
	pos := n.s.Proposals[p].Positions.Of("UA")
	if pos.Stance != Lapsed || !strings.Contains(pos.Reason, "was withdrawn") {
		t.Fatalf("UA's position after its condition was withdrawn: %+v", pos)
	}
	if !slices.Contains(n.s.Awaiting(n.s.Proposals[p]), "UA") {
		t.Fatal("UA is not awaited again")
	}
	// Stale: another proposal on the condition's clause is adopted.
	n.agree("r", "R.")
	r2 := n.table("US", "r", "R, amended by US.")
	n.accept(p, "UA", r2)
	n.agree("r", "R, amended by UA.")
	if pos := n.s.Proposals[p].Positions.Of("UA"); pos.Stance != Lapsed || !strings.Contains(pos.Reason, "went stale") {
		t.Fatalf("UA's position after its condition went stale: %+v", pos)
	}
	// UA accepts again, unconditionally, and EU's acceptance adopts it.
	n.accept(p, "UA")
	if evs := n.accept(p, "EU"); len(evs) != 2 {
		t.Fatalf("adoption after a lapse: %v", types(evs))
	}
}

// Ad referendum: the text enters the draft subject to the party's capital;
// confirmed, it stands; declined, the clause is restored, and the proposals
// it made stale stay stale (they can be rebased).
func TestAdReferendum(t *testing.T) {
	n := newNegotiation(t)
	n.agree("fund", "The Fund holds 100 million.")
	p := n.table("US", "fund", "The Fund holds 200 million.")
	other := n.table("EU", "fund", "The Fund holds 150 million.")
	n.do(Accept{Proposal: p, Party: "UA", AdReferendum: true})
	n.accept(p, "EU")
	c := n.s.Clauses["fund"]
	if c.Text != "The Fund holds 200 million." || !slices.Equal(c.AdRef, []string{"UA"}) {
		t.Fatalf("after an ad referendum adoption: %+v", c)
	}
	n.refuse(Confirm{Proposal: p, Party: "EU"}, ECONFLICT, "awaits the capital of EU")
	n.refuse(Conclude{Party: "DE"}, ECONFLICT, "ad referendum")
	evs := n.do(Decline{Proposal: p, Party: "UA"})
	if d := evs[0].(AdoptionDeclined); d.Clause != "fund" || d.Revision != 3 {
		t.Fatalf("decline %+v", d)
	}
	if c := n.s.Clauses["fund"]; c.Text != "The Fund holds 100 million." || c.Revision != 3 || len(c.AdRef) != 0 {
		t.Fatalf("after the decline: %+v", c)
	}
	if !n.s.Stale(n.s.Proposals[other]) {
		t.Fatal("the proposal the adoption made stale is not stale any more")
	}
	n.refuse(Decline{Proposal: p, Party: "UA"}, ECONFLICT, "nothing of proposal")
	// The stale proposal is rebased onto the restored text.
	evs = n.do(Table{Proposal: "rebased-0001", Clause: "fund", Party: "EU", Text: "The Fund holds 150 million.", Rebases: other})
	if got := types(evs); !slices.Equal(got, []string{TypeProposalTabled, TypeProposalWithdrawn}) {
		t.Fatalf("a rebase: %v", got)
	}
	if n.statusOf(other) != StatusWithdrawn || n.s.Proposals["rebased-0001"].Rebases != other {
		t.Fatal("the rebased proposal is not withdrawn, or the new one does not say what it rebases")
	}
	// A confirmation lifts it.
	q := n.table("US", "fund", "The Fund holds 300 million.")
	n.do(Accept{Proposal: q, Party: "UA", AdReferendum: true})
	n.do(Accept{Proposal: q, Party: "EU", AdReferendum: true})
	if c := n.s.Clauses["fund"]; !slices.Equal(c.AdRef, []string{"UA", "EU"}) {
		t.Fatalf("two capitals: %+v", c.AdRef)
	}
	n.do(Confirm{Proposal: q, Party: "UA"})
	n.do(Confirm{Proposal: q, Party: "EU"})
	if c := n.s.Clauses["fund"]; len(c.AdRef) != 0 || c.Text != "The Fund holds 300 million." {
		t.Fatalf("after both confirmations: %+v", c)
	}
}

// A rebase is the proposer's, of a stale proposal, on its clause.
func TestRebaseRefusals(t *testing.T) {
	n := newNegotiation(t)
	n.agree("a", "A.")
	us := n.table("US", "a", "A by US.")
	fresh := n.table("EU", "a", "A by EU.")
	n.refuse(Table{Proposal: "x-1", Clause: "a", Party: "US", Text: "A again.", Rebases: us}, ECONFLICT, "is not stale")
	n.accept(fresh, "UA")
	n.accept(fresh, "US")
	n.refuse(Table{Proposal: "x-1", Clause: "a", Party: "UA", Text: "A again.", Rebases: us}, EFORBIDDEN, "only US")
	n.refuse(Table{Proposal: "x-1", Clause: "b", Party: "US", Text: "B.", Rebases: us}, ECONFLICT, "is on clause a")
}

// A proposer revises its proposal: a new version, the others' positions
// reset; a heading alone may be amended; comments change no position.
func TestReviseCommentHeading(t *testing.T) {
	n := newNegotiation(t)
	n.agree("a", "The Parties shall consult.", heading("Consultation"))
	p := n.table("US", "a", "The Parties shall consult promptly.")
	n.accept(p, "UA")
	n.do(Object{Proposal: p, Party: "EU", Reason: "too vague"})
	text := "The Parties shall consult within 24 hours."
	n.refuse(Revise{Proposal: p, Party: "UA", Text: &text}, EFORBIDDEN, "only US")
	same := "The Parties shall consult promptly."
	n.refuse(Revise{Proposal: p, Party: "US", Text: &same}, ECONFLICT, "would change nothing")
	n.do(Revise{Proposal: p, Party: "US", Text: &text})
	got := n.s.Proposals[p]
	if got.Version != 2 || got.Text != text || len(got.Versions) != 1 || got.Versions[0].Text != same {
		t.Fatalf("after a revision: %+v", got)
	}
	if len(got.Positions) != 1 || got.Positions.Of("US").Stance != Accepts {
		t.Fatalf("positions after a revision: %+v", got.Positions)
	}
	n.do(CommentOn{Proposal: p, Party: "DE", Text: "24 hours is what the capitals can do."})
	if c := n.s.Proposals[p].Comments; len(c) != 1 || c[0].Party != "DE" {
		t.Fatalf("comments %+v", c)
	}
	n.refuse(CommentOn{Proposal: p, Party: "DE", Text: "  "}, EINVALID, "empty")
	// A heading alone.
	evs := n.do(Table{Proposal: "h-0001", Clause: "a", Party: "EU", Heading: func() *string { h := "Consultations"; return &h }()})
	if e := evs[0].(ProposalTabled); e.Text != "The Parties shall consult." || *e.Heading != "Consultations" {
		t.Fatalf("a heading-only amendment: %+v", e)
	}
	n.accept("h-0001", "UA")
	n.accept("h-0001", "US")
	if c := n.s.Clauses["a"]; c.Heading != "Consultations" || c.Text != "The Parties shall consult." {
		t.Fatalf("after the heading's adoption: %+v", c)
	}
	n.refuse(Table{Proposal: "h-0002", Clause: "new", Party: "EU", Heading: func() *string { h := "H"; return &h }()}, EINVALID, "no agreed text to keep")
	// A stale proposal is rebased, not revised.
	n.refuse(Revise{Proposal: p, Party: "US", Text: &same}, ESTALE, "rebase it")
}

// Nothing is agreed until everything is agreed: the text is concluded only
// when nothing stands in the way; then initialled, reserved, declared; and
// reopened only when every party agrees.
func TestConclusion(t *testing.T) {
	n := newNegotiation(t)
	n.refuse(Conclude{Party: "DE"}, ECONFLICT, "no agreed clause")
	n.do(OpenRound{Party: "DE"})
	n.agree("a", "A.")
	open := n.table("US", "a", "A by US.")
	n.refuse(Conclude{Party: "DE"}, ECONFLICT, "round 1 is open")
	n.do(CloseRound{Party: "DE"})
	n.refuse(Conclude{Party: "DE"}, ECONFLICT, "1 proposals are open: "+Short(open))
	n.do(Withdraw{Proposal: open, Party: "US"})
	n.do(Conclude{Party: "DE", Head: "abcd"})
	if n.s.Concluded == nil || n.s.Concluded.Head != "abcd" {
		t.Fatal("not concluded")
	}
	n.refuse(Table{Proposal: "late-0001", Clause: "b", Party: "UA", Text: "B."}, ECONFLICT, "concluded")
	n.refuse(OpenRound{Party: "DE"}, ECONFLICT, "concluded")
	n.refuse(InitialText{Party: "UA", Head: "ffff"}, ECONFLICT, "cite head")
	n.refuse(InitialText{Party: "DE", Head: "abcd"}, EFORBIDDEN, "observer")
	n.do(Reserve{Party: "UA", Clause: "a", Text: "UA reads A as not applying to Crimea."})
	n.do(Declare{Party: "EU", Text: "The EU acts within its competences."})
	n.do(InitialText{Party: "UA", Head: "abcd"})
	n.refuse(InitialText{Party: "UA", Head: "abcd"}, ECONFLICT, "already initialled")
	n.refuse(Reserve{Party: "UA", Clause: "a", Text: "Another."}, ECONFLICT, "initialled the text already")
	n.refuse(Reserve{Party: "US", Clause: "zzz", Text: "R."}, ENOTFOUND, "no agreed text")
	n.refuse(Reserve{Party: "US", Clause: "a", Text: "R\u202e."}, EINVALID, "reservation holds U+202E")
	n.refuse(Declare{Party: "US", Text: "D\u200b."}, EINVALID, "declaration holds U+200B")
	if len(n.s.Reservations) != 1 || len(n.s.Declarations) != 1 || len(n.s.Initials) != 1 {
		t.Fatalf("after initials: %+v %+v %+v", n.s.Reservations, n.s.Declarations, n.s.Initials)
	}
	n.do(Reopen{Party: "UA"})
	n.do(Reopen{Party: "US"})
	n.refuse(Table{Proposal: "late-0001", Clause: "b", Party: "UA", Text: "B."}, ECONFLICT, "concluded")
	n.do(Reopen{Party: "EU"})
	if n.s.Concluded != nil || len(n.s.Initials) != 0 {
		t.Fatal("not reopened")
	}
	n.table("UA", "b", "B.")
	n.refuse(Reopen{Party: "UA"}, ECONFLICT, "nothing to reopen")
}

// OnClose sees every proposal that closes exactly once, whole and with its
// fate, whether it closes alone, withdrawn, or with its package.
func TestOnCloseSeesEveryClosedProposal(t *testing.T) {
	for _, keep := range []bool{false, true} {
		type closed struct {
			status       Status
			closed, text string
		}
		seen := map[string][]closed{}
		n := newNegotiation(t)
		n.s.KeepClosed = keep
		n.s.OnClose = func(p *Proposal) {
			seen[p.Proposal] = append(seen[p.Proposal], closed{p.Status, fmt.Sprint(p.Closed), p.Text})
		}
		alone := n.agree("x", "X.")
		gone := n.table("US", "y", "Y.")
		n.do(Withdraw{Proposal: gone, Party: "US"})
		a, b := n.table("UA", "a", "A."), n.table("US", "b", "B.")
		n.accept(a, "US", b)
		n.accept(a, "EU")
		n.accept(b, "EU")
		n.accept(b, "UA", a)
		open := n.table("EU", "c", "C.")
		want := map[string]closed{alone: {StatusAdopted, "", "X."}, gone: {StatusWithdrawn, "", "Y."},
			a: {StatusAdopted, "", "A."}, b: {StatusAdopted, "", "B."}}
		if len(seen) != len(want) || seen[open] != nil {
			t.Fatalf("KeepClosed=%v: OnClose saw %v", keep, seen)
		}
		for id, w := range want {
			got := seen[id]
			if len(got) != 1 {
				t.Fatalf("KeepClosed=%v: OnClose saw %s %d times", keep, id, len(got))
			}
			p, _, _ := n.s.LookupProposal(id)
			if w.closed = fmt.Sprint(p.Closed); got[0] != w {
				t.Fatalf("KeepClosed=%v: OnClose saw %s as %+v, want %+v", keep, id, got[0], w)
			}
		}
	}
}
