package projections

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections/redline"
)

func TestBlame(t *testing.T) {
	ss := newSession(t)
	ss.openRound()                                                                     // round 1
	first := ss.agree("a", "The Parties shall consult.")                               // UA
	us := ss.table("US", "a", "The Parties shall consult promptly and in good faith.") // amend
	ss.accept(us, "UA", "EU")
	ss.closeRound()
	ss.openRound() // round 2
	eu := ss.table("EU", "a", "The Parties shall consult promptly, in good faith, with the Commission.")
	ss.accept(eu, "UA", "US")
	ss.agree("b", "Сторони зобов'язуються.")
	ss.agree("b", "", deleting)
	back := ss.agree("b", "Сторони знову зобов'язуються.")

	b, err := NewReader(ss.store, "berlin", withCheckpoints).Blame(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Clauses) != 2 {
		t.Fatalf("clauses %+v", b.Clauses)
	}
	for _, c := range b.Clauses {
		var text strings.Builder
		for _, r := range c.Runs {
			text.WriteString(r.Text)
		}
		if text.String() != c.Text {
			t.Fatalf("%s: runs make %q, the clause reads %q", c.ID, text.String(), c.Text)
		}
	}
	type run struct {
		text, proposal string
		round          int
	}
	var got []run
	for _, r := range b.Clauses[0].Runs {
		got = append(got, run{r.Text, r.Proposal, r.Round})
	}
	want := []run{
		{"The Parties shall consult", first, 1},
		{" promptly", us, 1},
		{",", eu, 2},              // "and" became a comma
		{" in good faith", us, 1}, // kept from the US amendment
		{", with the Commission", eu, 2},
		{".", first, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("runs of a:\n got %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("run %d of a: got %+v, want %+v (all: %+v)", i, got[i], want[i], got)
		}
	}
	// A clause deleted and put back owes nothing to its first life.
	if runs := b.Clauses[1].Runs; len(runs) != 1 || runs[0].Proposal != back || runs[0].Party != "UA" {
		t.Fatalf("runs of b: %+v", runs)
	}
	one, err := NewReader(ss.store, "berlin", withCheckpoints).Blame(ctx, "b")
	if err != nil || len(one.Clauses) != 1 || one.Clauses[0].Number != 2 {
		t.Fatalf("blame of one clause: %+v, %v", one, err)
	}
	if _, err := NewReader(ss.store, "berlin", withCheckpoints).Blame(ctx, "nope"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("blame of a clause without text: %v", err)
	}
}

func TestClauseHistory(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	first := ss.agree("a", "A.", withHeading("Alpha"))
	gone := ss.table("US", "a", "A by US.")
	ss.do("US", domain.Withdraw{Proposal: gone, Party: "US"})
	stale := ss.table("EU", "a", "A by EU.")
	ss.do("UA", domain.Object{Proposal: stale, Party: "UA", Reason: "no"})
	second := ss.agree("a", "A, amended.")
	open := ss.table("US", "a", "A, amended again.")
	ss.table("US", "other", "Elsewhere.")

	h, err := NewReader(ss.store, "berlin", withCheckpoints).ClauseHistory(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Revisions) != 2 || h.Revisions[0].Proposal != first || h.Revisions[1].Proposal != second ||
		h.Revisions[0].Heading != "Alpha" || h.Revisions[1].Heading != "Alpha" {
		t.Fatalf("revisions %+v", h.Revisions)
	}
	if b, a := redline.Rebuild(h.Revisions[1].Ops); b != "A." || a != "A, amended." {
		t.Fatalf("redline of revision 2: %q → %q", b, a)
	}
	fates := map[string]string{}
	for _, p := range h.Proposals {
		fates[p.ID] = p.Fate
	}
	want := map[string]string{first: ProposalAdopted, gone: ProposalWithdrawn, stale: ProposalStale, second: ProposalAdopted, open: ProposalOpen}
	if len(fates) != len(want) {
		t.Fatalf("proposals %v", fates)
	}
	for id, f := range want {
		if fates[id] != f {
			t.Errorf("%s: fate %q, want %q", id, fates[id], f)
		}
	}
	var objection PositionEvent
	for _, p := range h.Proposals {
		if p.ID == stale {
			objection = p.Positions[1]
		}
	}
	if objection.Party != "UA" || objection.Stance != string(domain.Objects) || objection.Reason != "no" || objection.Time.IsZero() {
		t.Fatalf("objection %+v", objection)
	}
	if _, err := NewReader(ss.store, "berlin", withCheckpoints).ClauseHistory(ctx, "never"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("history of a clause never proposed: %v", err)
	}
}

func TestAudit(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.keyRing()
	ss.agree("a", "A.")
	ss.closeRound()
	ss.registerKey("UA")
	a, err := wholeAudit(NewReader(ss.store, "berlin", withCheckpoints))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Verification.OK || a.Verification.Head != ss.head {
		t.Fatalf("verification %+v", a.Verification)
	}
	ua := a.Parties[0]
	if ua.Code != "UA" || len(ua.Keys) != 2 || ua.Keys[1].Replaces != ua.Keys[0].ID {
		t.Fatalf("UA's keys %+v", ua.Keys)
	}
	if len(a.Rounds) != 1 || a.Rounds[0].ClosedHash == "" || a.Rounds[0].Head == "" || a.Rounds[0].Adopted != 1 {
		t.Fatalf("rounds %+v", a.Rounds)
	}
	if len(a.Proposals) != 1 || a.Proposals[0].Status != ProposalAdopted || len(a.Proposals[0].AcceptedBy) != 3 {
		t.Fatalf("proposals %+v", a.Proposals)
	}
	out, _ := json.Marshal(a)
	for _, key := range []string{`"verification":{`, `"closed_hash":"`, `"public_key":"`, `"proposals":[{`} {
		if !strings.Contains(string(out), key) {
			t.Errorf("audit JSON lacks %s", key)
		}
	}
	// A broken log still gets its report, with the problem in it.
	ss.tamper(func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		evs[11].Data = []byte(strings.Replace(string(evs[11].Data), "A.", "B.", 1))
		return evs
	})
	bad, err := wholeAudit(NewReader(ss.store, "berlin", withCheckpoints))
	if err != nil || bad.Verification.OK || bad.Verification.Problem.Event != 12 {
		t.Fatalf("audit of a changed log: %+v, %v", bad.Verification, err)
	}
}
