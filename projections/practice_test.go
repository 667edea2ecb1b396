package projections

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// The views of negotiating practice: conditions and options in the draft,
// an adoption ad referendum, a capital's decline in history and blame,
// versions and comments, and the concluded text.
func TestPracticeViews(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("fund", "The Fund holds 100 million.")
	g := ss.table("US", "guarantees", "The guarantees are binding.")
	a := ss.table("US", "alliance", "No membership.")
	ss.do("UA", domain.Accept{Proposal: a, Party: "UA", SubjectTo: []string{g}})
	o1 := ss.table("US", "fund", "The Fund holds 120 million.")
	o2 := ss.table("EU", "fund", "The Fund holds 150 million.")
	ss.do("DE", domain.CommentOn{Proposal: o2, Party: "DE", Text: "A middle way?"})
	text := "The Fund holds 140 million."
	ss.do("EU", domain.Revise{Proposal: o2, Party: "EU", Text: &text})

	m, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := BuildDraft(m, DraftOptions{Redlines: true})
	clause := func(id string) DraftClause {
		for _, c := range d.Clauses {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("no clause %s in the draft", id)
		return DraftClause{}
	}
	al := clause("alliance").OpenProposals[0]
	if len(al.Conditional) != 1 || al.Conditional[0].Party != "UA" || !slices.Equal(al.Conditional[0].SubjectTo, []string{g}) ||
		!slices.Equal(al.Conditional[0].Clauses, []string{"guarantees"}) || al.Conditional[0].Adopted[0] {
		t.Fatalf("conditional: %+v", al.Conditional)
	}
	if slices.Contains(al.AcceptedBy, "UA") {
		t.Fatalf("accepted_by holds the conditional acceptance: %v", al.AcceptedBy)
	}
	if !slices.Contains(al.Facts(), "UA accepts subject to "+domain.Short(g)+" (guarantees)") {
		t.Fatalf("facts: %q", al.Facts())
	}
	fund := clause("fund")
	if len(fund.OpenProposals) != 2 || fund.OpenProposals[0].ID != o1 || fund.OpenProposals[0].Label() != "Option 1 (US)" ||
		fund.OpenProposals[1].Label() != "Option 2 (EU)" || fund.OpenProposals[1].Version != 2 || fund.OpenProposals[1].Comments != 1 {
		t.Fatalf("options: %+v", fund.OpenProposals)
	}
	var b bytes.Buffer
	if err := WriteDraftText(&b, d, Style{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{Unconcluded, "[Option 1 (US): The Fund holds 120 million.]", "[Option 2 (EU): The Fund holds 140 million.]",
		"version 2 · accepted by EU · 1 comment", "1. fund  [fund]  open"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("draft text lacks %q:\n%s", want, b.String())
		}
	}

	// The show view lists both versions and the comment.
	r := NewReader(ss.store, "berlin", withCheckpoints)
	pd, err := r.Proposal(ctx, o2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pd.Versions) != 2 || pd.Versions[0].Text != "The Fund holds 150 million." || pd.Versions[1].Text != text ||
		len(pd.Comments) != 1 || pd.Comments[0].Party != "DE" {
		t.Fatalf("versions %+v, comments %+v", pd.Versions, pd.Comments)
	}
	if got := pd.Versions[1].Ops; len(got) != 4 || got[1] != (redline.Op{Kind: redline.Delete, Text: "150"}) {
		t.Fatalf("the second version's redline from the first: %+v", got)
	}

	// An adoption ad referendum, then the capital declines: the text is
	// restored, history says so, and blame gives the restored words their
	// first proposal back.
	ss.accept(o1, "UA")
	ss.do("EU", domain.Accept{Proposal: o1, Party: "EU", AdReferendum: true})
	m, err = r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := BuildDraft(m, DraftOptions{}).Clauses[0]; c.Status != StatusOpen || !slices.Equal(c.AdRef, []string{"EU"}) || c.StatusLabel() != "open; its text agreed ad ref (EU)" {
		t.Fatalf("after an adoption ad referendum: %+v", c)
	}
	ss.do("EU", domain.Decline{Proposal: o1, Party: "EU"})
	h, err := r.ClauseHistory(ctx, "fund")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Revisions); n != 3 || !h.Revisions[2].Restores || h.Revisions[2].Text != "The Fund holds 100 million." ||
		!slices.Equal(h.Revisions[1].AdRef, []string{"EU"}) {
		t.Fatalf("history revisions: %+v", h.Revisions)
	}
	var story ProposalStory
	for _, p := range h.Proposals {
		if p.ID == o2 {
			story = p
		}
	}
	if len(story.Versions) != 2 || len(story.Comments) != 1 {
		t.Fatalf("history of %s: %+v", o2, story)
	}
	bl, err := r.Blame(ctx, "fund")
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range bl.Clauses[0].Runs {
		if run.Proposal == o1 {
			t.Fatalf("blame after the decline still names the declined proposal: %+v", bl.Clauses[0].Runs)
		}
	}

	// Concluded: the draft says when, who initialled, and what was added.
	ss.do("US", domain.Withdraw{Proposal: g, Party: "US"})
	ss.do("US", domain.Withdraw{Proposal: a, Party: "US"})
	ss.do("EU", domain.Withdraw{Proposal: o2, Party: "EU"})
	ss.closeRound()
	head := ss.head
	ss.do("DE", domain.Conclude{Party: "DE", Head: head})
	concluded := ss.at
	ss.do("UA", domain.Reserve{Party: "UA", Clause: "fund", Text: "Ukraine reads 100 million as a floor."})
	ss.do("EU", domain.Declare{Party: "EU", Text: "Within the Union's competences."})
	ss.do("UA", domain.InitialText{Party: "UA", Head: head})
	m, err = r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err = r.Draft(ctx, m, DraftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := d.Concluded; c == nil || c.Head != head || !c.Time.Equal(concluded) || c.Event != m.Point.Event-3 {
		t.Fatalf("concluded: %+v (head %s at %v)", d.Concluded, head, concluded)
	}
	if !slices.Equal(d.InitialledBy, []string{"UA"}) || len(d.Reservations) != 1 || d.Reservations[0].Clause != "fund" || len(d.Declarations) != 1 {
		t.Fatalf("initials %v, reservations %+v, declarations %+v", d.InitialledBy, d.Reservations, d.Declarations)
	}
	if st := d.Standing(); len(st) != 2 || !strings.HasPrefix(st[0], "Concluded: the whole text was agreed at event ") || st[1] != "Initialled by UA; awaiting US, EU." {
		t.Fatalf("standing: %q", st)
	}
	for _, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return WriteDraftText(b, d, Style{}) },
		func(b *bytes.Buffer) error { return WriteDraftMarkdown(b, d) },
		func(b *bytes.Buffer) error { return WriteDraftHTML(b, d) },
	} {
		b.Reset()
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Initialled by UA; awaiting US, EU.", "Reservation by UA", "Ukraine reads 100 million as a floor.", "Within the Union", "Declarations"} {
			if !strings.Contains(b.String(), want) {
				t.Fatalf("the concluded draft lacks %q:\n%s", want, b.String())
			}
		}
		if strings.Contains(b.String(), Unconcluded) {
			t.Fatalf("the concluded draft still says %q", Unconcluded)
		}
	}
}
