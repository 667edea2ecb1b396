package projections

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections/redline"
)

var ctx = context.Background()

// TestDraftJSON pins the JSON shape CLI.md promises scripts.
func TestDraftJSON(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("preamble", "Recalling the Charter.", withHeading("Preamble"))
	us := ss.table("US", "preamble", "Recalling the UN Charter.")
	ss.do("EU", domain.Object{Proposal: us, Party: "EU", Reason: "no"})
	ss.table("DE", "new-clause", "Mediator's text.")
	m, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(BuildDraft(m, DraftOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"treaty":"berlin","title":"Berlin Framework",` +
		`"as_of":{"ref":"head","event":9,"round":1,"time":"2026-11-16T09:08:00Z","hash":"` + ss.head + `","place":"round 1"},` +
		`"parties":[{"code":"UA","name":"Ukraine","role":"party"},{"code":"US","name":"United States","role":"party"},{"code":"EU","name":"European Union","role":"party"},{"code":"DE","name":"Germany","role":"observer"}],` +
		`"clauses":[` +
		`{"id":"preamble","number":1,"heading":"Preamble","text":"Recalling the Charter.","revision":1,"status":"open","open_proposals":[` +
		`{"id":"` + us + `","party":"US","action":"amend","text":"Recalling the UN Charter.","accepted_by":["US"],"objected_by":["EU"],"stale":false,"tabled":7,"round":1,"conditional":[],"version":1}]},` +
		`{"id":"new-clause","number":2,"heading":"","text":"","revision":0,"status":"open","open_proposals":[` +
		`{"id":"00030000-0000-4000-8000-000000000000","party":"DE","action":"insert","text":"Mediator's text.","accepted_by":[],"objected_by":[],"stale":false,"tabled":9,"round":1,"conditional":[],"version":1}]}],` +
		`"concluded":null,"initialled_by":[],"reservations":[],"declarations":[]}`
	if string(got) != want {
		t.Fatalf("draft JSON:\n got %s\nwant %s", got, want)
	}
	clean, _ := json.Marshal(BuildDraft(m, DraftOptions{AgreedOnly: true}))
	if !strings.Contains(string(clean), `"clauses":[{"id":"preamble","number":1,"heading":"Preamble","text":"Recalling the Charter.","revision":1,"status":"agreed","open_proposals":[]}]`) {
		t.Fatalf("agreed-only draft: %s", clean)
	}
}

func TestDraftStatuses(t *testing.T) {
	ss := newSession(t)
	ss.agree("a", "A.")
	ss.agree("b", "B.")
	ss.agree("b", "", deleting)
	stale := ss.table("US", "a", "A by US.")
	ss.agree("a", "A by all.")
	m, _ := NewReader(ss.store, "berlin", Options{}).Head(ctx)
	d := BuildDraft(m, DraftOptions{})
	if len(d.Clauses) != 1 || d.Clauses[0].ID != "a" {
		t.Fatalf("deleted clause listed: %+v", d.Clauses)
	}
	c := d.Clauses[0]
	if c.Status != StatusOpen || len(c.OpenProposals) != 1 || !c.OpenProposals[0].Stale || c.OpenProposals[0].ID != stale || c.Revision != 2 {
		t.Fatalf("clause with a stale proposal: %+v", c)
	}
	var text bytes.Buffer
	if err := WriteDraftText(&text, d, Style{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1. a  [a]", "   A by all.", " | [US, stale: A by US.]", "stale: another proposal was adopted"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text draft lacks %q:\n%s", want, text.String())
		}
	}
}

func TestRefs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		ok   bool
		kind refKind
		n    int
	}{
		{"head", true, refHead, 0},
		{"round:3", true, refRoundEnd, 3},
		{"round:12:start", true, refRoundStart, 12},
		{"@17", true, refEvent, 17},
		{"@0", true, refEvent, 0},
		{"2026-11-26T10:00:00Z", true, refTime, 0},
		{"2026-11-26T10:00:00.5+01:00", true, refTime, 0},
		{"round:0", false, 0, 0},
		{"round:x", false, 0, 0},
		{"round:-1", false, 0, 0},
		{"round:01", false, 0, 0},
		{"round:2:end", false, 0, 0},
		{"@", false, 0, 0},
		{"@x", false, 0, 0},
		{"@-3", false, 0, 0},
		{"2026-11-26", false, 0, 0},
		{"yesterday", false, 0, 0},
		{"", false, 0, 0},
		{"HEAD", false, 0, 0},
	} {
		r, err := ParseRef(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("ParseRef(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			var syn *RefSyntaxError
			if !errors.As(err, &syn) || !strings.Contains(err.Error(), "a REF is round:N") {
				t.Errorf("ParseRef(%q) = %v, want a RefSyntaxError saying what a REF is", tt.in, err)
			}
			continue
		}
		if r.kind != tt.kind || r.n != tt.n || r.String() != tt.in {
			t.Errorf("ParseRef(%q) = %+v", tt.in, r)
		}
	}

	ss := newSession(t) // event 1
	ss.openRound()      // 2
	ss.agree("a", "A.") // 3..6
	ss.closeRound()     // 7
	ss.openRound()      // 8
	ss.agree("b", "B.") // 9..12
	head := &ss.s
	for _, tt := range []struct {
		ref     string
		n       int
		problem string
	}{
		{"head", 12, ""},
		{"round:1", 7, ""},
		{"round:1:start", 2, ""},
		{"round:2", 12, ""}, // open: now
		{"round:2:start", 8, ""},
		{"@5", 5, ""},
		{"@12", 12, ""},
		{"round:3", 0, "there is no round 3: the negotiation has had 2 round(s) so far"},
		{"@13", 0, "the negotiation has 12 events"},
		{"@0", 0, "there is no event 0"},
	} {
		n, ok, err := Resolve(ref(t, tt.ref), head)
		if tt.problem != "" {
			var re *RefError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("Resolve(%s) = %d, %v; want %q", tt.ref, n, err, tt.problem)
			}
			continue
		}
		if err != nil || !ok || n != tt.n {
			t.Errorf("Resolve(%s) = %d, %v, %v; want %d", tt.ref, n, ok, err, tt.n)
		}
	}
	if n, _, _ := Resolve(LastClosedRound, head); n != 7 {
		t.Errorf("LastClosedRound = %d, want 7", n)
	}
	if n, _, _ := Resolve(LastClosedRound, &domain.State{Events: 3}); n != 0 {
		t.Errorf("LastClosedRound with no closed round = %d, want 0", n)
	}

	// Times: every event at or before the time.
	r := NewReader(ss.store, "berlin", Options{})
	for _, tt := range []struct {
		at      string
		n       int
		problem string
	}{
		{"2026-11-16T09:04:00Z", 4, ""},
		{"2026-11-16T09:05:00Z", 6, ""}, // an acceptance and its adoption share a time
		{"2026-11-16T09:05:30Z", 6, ""},
		{"2026-11-16T10:01:00+01:00", 1, ""},
		{"2030-01-01T00:00:00Z", 12, ""},
		{"2026-11-16T09:00:59Z", 0, "had not begun: it opened at 2026-11-16T09:01:00Z"},
	} {
		n, err := r.Resolve(ctx, ref(t, tt.at), head)
		if tt.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("Resolve(%s) = %d, %v; want %q", tt.at, n, err, tt.problem)
			}
			continue
		}
		if err != nil || n != tt.n {
			t.Errorf("Resolve(%s) = %d, %v; want %d", tt.at, n, err, tt.n)
		}
	}
}

func TestDiff(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("a", "The Parties shall consult.", withHeading("Consultation"))
	ss.agree("b", "B stays.")
	ss.agree("c", "C goes.")
	ss.agree("d", "D moves.")
	ss.agree("e", "E keeps its text, changes its heading.", withHeading("Old"))
	ss.closeRound()
	ss.openRound()
	ss.agree("a", "The Parties shall consult promptly.")
	ss.agree("c", "", deleting)
	ss.agree("d", "D moves.", placedFirst)
	ss.agree("e", "E keeps its text, changes its heading.", withHeading("New"))
	ss.agree("f", "Сторони зобов'язуються.", placedAfter("b"))
	gone := ss.table("US", "b", "B by US.")
	ss.do("US", domain.Withdraw{Proposal: gone, Party: "US"})
	open := ss.table("EU", "b", "B by EU.")
	ss.closeRound()

	d, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, ref(t, "round:1"), ref(t, "round:2"), CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, change    string
		moved         *Move
		before, after int
		headB, headA  string
		textB, textA  string
		adopted       int
	}
	var got []row
	for _, c := range d.Clauses {
		got = append(got, row{c.ID, c.Change, c.Moved, c.NumberBefore, c.NumberAfter, c.HeadingBefore, c.HeadingAfter, c.Before, c.After, len(c.Adopted)})
		before, after := redline.Rebuild(c.Ops)
		if before != c.Before || after != c.After {
			t.Errorf("%s: ops rebuild %q → %q, want %q → %q", c.ID, before, after, c.Before, c.After)
		}
	}
	// In the order of the later draft, removed clauses where they stood;
	// numbers as the draft numbers them at each end (b, with an open
	// proposal, counts).
	want := []row{
		{"d", ChangeMoved, &Move{From: 4, To: 1}, 4, 1, "", "", "D moves.", "D moves.", 1},
		{"a", ChangeModified, nil, 1, 2, "Consultation", "Consultation", "The Parties shall consult.", "The Parties shall consult promptly.", 1},
		{"c", ChangeRemoved, nil, 3, 0, "", "", "C goes.", "", 1}, // right after b, as it stood
		{"f", ChangeAdded, nil, 0, 4, "", "", "", "Сторони зобов'язуються.", 1},
		{"e", ChangeModified, nil, 5, 5, "Old", "New", "E keeps its text, changes its heading.", "E keeps its text, changes its heading.", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("clauses:\n got %+v\nwant %+v", got, want)
	}
	if ops := d.Clauses[1].Ops; len(ops) != 3 || ops[1] != (redline.Op{Kind: redline.Insert, Text: " promptly"}) {
		t.Fatalf("word ops of a: %+v", ops)
	}
	if a := d.Clauses[1].Adopted[0]; a.Party != "UA" || a.Round != 2 || a.Event <= d.From.Event || a.Event > d.To.Event {
		t.Fatalf("attribution of a: %+v", a)
	}
	if c := d.Proposals.Counts; c != (ActivityCounts{Tabled: 7, Adopted: 5, Withdrawn: 1}) {
		t.Fatalf("counts %+v", c)
	}
	if d.From.Event != 23 || d.To.Ref != "round:2" || d.To.Event != ss.s.Events {
		t.Fatalf("points: %+v %+v", d.From, d.To)
	}
	// The whole document lists b too, unchanged, with its open proposal.
	whole, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, ref(t, "round:1"), ref(t, "round:2"), CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range whole.Clauses {
		ids = append(ids, c.ID+":"+c.Change)
	}
	if want := []string{"d:moved", "a:modified", "b:unchanged", "c:removed", "f:added", "e:modified"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("whole: %v, want %v", ids, want)
	}
	if b := whole.Clauses[2]; len(b.OpenProposals) != 1 || b.OpenProposals[0].ID != open || len(b.OpenProposals[0].Ops) == 0 || len(b.Adopted) != 0 {
		t.Fatalf("b in the whole document: %+v", b)
	}
	// Reversed moments are refused, saying to swap them.
	_, err = NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, ref(t, "round:2"), ref(t, "round:1"), CompareOptions{})
	var rev *ReversedError
	if !errors.As(err, &rev) || !strings.Contains(err.Error(), "swap them: --from round:1 --to round:2") {
		t.Fatalf("reversed: %v", err)
	}
	_ = gone
	var text bytes.Buffer
	WriteDiffText(&text, d, Style{})
	for _, w := range []string{"shall consult{+ promptly+}.", "(moved from 4 to 1)", "(added)", "[-3.-] c  [c]  (removed)", "heading: [-Old-]{+New+}", "[-C goes.-]", "Proposals: 7 tabled, 5 adopted, 1 withdrawn", "Nothing is agreed until everything is agreed."} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text redline lacks %q:\n%s", w, text.String())
		}
	}
}

// fourRounds is a negotiation of four rounds of six proposals each, two in
// three adopted and the others left open, or withdrawn.
func fourRounds(t *testing.T, withdraw bool) *session {
	ss := newSession(t)
	for round := 0; round < 4; round++ {
		ss.openRound()
		for i := 0; i < 6; i++ {
			clause := string(rune('a' + (i+round)%5))
			id := ss.table("UA", clause, fmt.Sprintf("Text %d of clause %s in round %d.", i, clause, round))
			switch {
			case i%3 != 2:
				ss.accept(id, "US", "EU")
			case withdraw:
				ss.do("UA", domain.Withdraw{Proposal: id, Party: "UA"})
			}
		}
		ss.closeRound()
	}
	return ss
}

// TestCheckpointsChangeNoAnswer reads every moment of a negotiation with and
// without checkpoints and compares the answers.
func TestCheckpointsChangeNoAnswer(t *testing.T) {
	ss := fourRounds(t, false)
	cached := NewReader(ss.store, "berlin", withCheckpoints)
	cached.every = 5
	plain := NewReader(ss.store, "berlin", Options{})
	refs := []string{"head", "round:1", "round:2:start", "round:3", "round:4", "@1", "@17", "@40", "2026-11-16T09:30:00Z"}
	for pass := 0; pass < 2; pass++ { // the second pass reads the checkpoints the first left
		for _, rs := range refs {
			a, errA := cached.At(ctx, ref(t, rs))
			b, errB := plain.At(ctx, ref(t, rs))
			if errA != nil || errB != nil {
				t.Fatalf("At(%s): %v / %v", rs, errA, errB)
			}
			ja, _ := json.Marshal(BuildDraft(a, DraftOptions{}))
			jb, _ := json.Marshal(BuildDraft(b, DraftOptions{}))
			if !bytes.Equal(ja, jb) {
				t.Fatalf("pass %d, %s: with checkpoints\n%s\nwithout\n%s", pass, rs, ja, jb)
			}
		}
	}
	if keys := ss.store.cacheKeys(t); len(keys) < 5 {
		t.Fatalf("expected a head checkpoint and one per round, the cache holds %q", keys)
	}
	// A checkpoint that no longer matches the log is ignored.
	for _, k := range ss.store.cacheKeys(t) {
		_ = ss.store.CachePut(ctx, k, []byte("garbage"))
	}
	if m, err := cached.Head(ctx); err != nil || m.State.Events != ss.s.Events {
		t.Fatalf("garbage checkpoint: %v, %d events", err, m.State.Events)
	}
	// Checkpoints of another log with the same treaty ID: authentic, but
	// not bound to this log.
	other := newSession(t)
	if _, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range ss.store.cacheKeys(t) {
		v, _ := ss.store.CacheGet(ctx, k)
		_ = other.store.CachePut(ctx, k, v)
	}
	if m, err := NewReader(other.store, "berlin", withCheckpoints).Head(ctx); err != nil || m.State.Events != other.s.Events {
		t.Fatalf("foreign checkpoint used: %v, %d events, want %d", err, m.State.Events, other.s.Events)
	}
}

// An edited checkpoint changes no answer: the adversarial test of the trust
// issue changed "100 million" to "999 million" inside one, and every draft
// followed. Now the edit makes the checkpoint unauthentic, and the answer
// comes from the log.
func TestEditedCheckpointChangesNoAnswer(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("fund", "The Fund holds 100 million euro.")
	for i := range 150 {
		ss.table("US", fmt.Sprintf("c%d", i), "Filler.")
	}
	ss.closeRound()
	r := NewReader(ss.store, "berlin", withCheckpoints)
	want, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edited := 0
	for _, k := range ss.store.cacheKeys(t) {
		v, _ := ss.store.CacheGet(ctx, k)
		if i := bytes.Index(v, []byte("100 million")); i >= 0 {
			_ = ss.store.CachePut(ctx, k, bytes.Replace(v, []byte("100 million"), []byte("999 million"), -1))
			edited++
		}
	}
	if edited == 0 {
		t.Fatal("no checkpoint holds the text to edit: the test tests nothing")
	}
	for _, rs := range []string{"head", "round:1"} {
		m, err := NewReader(ss.store, "berlin", withCheckpoints).At(ctx, ref(t, rs))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.State.Clauses["fund"].Text; got != "The Fund holds 100 million euro." {
			t.Fatalf("%s: the edited checkpoint changed the draft: %q", rs, got)
		}
	}
	if m, _ := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx); m.State.Events != want.State.Events {
		t.Fatal("the head moved")
	}
}

func TestVerify(t *testing.T) {
	ok := newSession(t)
	ok.openRound()
	ok.agree("a", "A.")
	v, err := Verify(ctx, ok.store, "berlin", VerifyOptions{})
	if err != nil || !v.OK || v.Events != 6 || v.Problem != nil || v.Head != ok.head {
		t.Fatalf("clean log: %+v, %v", v, err)
	}
	meta := func(party string, round int) domain.Meta {
		return domain.Meta{Party: party, Round: round, Time: ok.at}
	}
	sealedBytes := func(ss *session, typ, data string) (string, []byte, []byte) {
		// Bytes that no encoder would write, sealed into the chain.
		m := fmt.Appendf(nil, `{"party":"DE","round":1,"time":"2026-11-16T10:00:00Z","schema":2,"prev":%q}`, ss.head)
		h, err := domain.Seal(typ, []byte(data), m)
		if err != nil {
			t.Fatal(err)
		}
		return typ, []byte(data), fmt.Appendf(m[:len(m)-1], `,"hash":%q}`, h)
	}
	for _, tt := range []struct {
		name  string
		write func(ss *session)
		event int
		want  string
	}{
		{"adoption without unanimity", func(ss *session) {
			id := ss.table("UA", "a", "A.")
			ss.raw(domain.ProposalAdopted{Proposal: id, Clause: "a", Revision: 1}, meta("UA", 0))
		}, 3, "without every party accepting"},
		{"acceptance without its adoption", func(ss *session) {
			id := ss.table("UA", "a", "A.")
			ss.accept(id, "US")
			ss.raw(domain.ProposalAccepted{Proposal: id, Party: "EU"}, meta("EU", 0))
		}, 4, "ends without its adoption"},
		{"wrong round recorded", func(ss *session) {
			ss.openRound()
			ss.raw(domain.ProposalTabled{Proposal: "p1", Clause: "a", Party: "UA", Action: domain.ActionInsert, Text: "A."}, meta("UA", 3))
		}, 3, "records round 3, but round 1 was open"},
		{"another party's act", func(ss *session) {
			ss.raw(domain.ProposalTabled{Proposal: "p1", Clause: "a", Party: "UA", Action: domain.ActionInsert, Text: "A."}, meta("US", 0))
		}, 2, `records "US" as the acting party, but the act is UA's`},
		{"a stranger opens a round", func(ss *session) {
			ss.raw(domain.RoundOpened{Round: 1}, meta("RU", 1))
		}, 2, "not a participant"},
		{"no time", func(ss *session) {
			ss.raw(domain.RoundOpened{Round: 1}, domain.Meta{Party: "DE", Round: 1})
		}, 2, "records no time"},
		{"wrong head on closing", func(ss *session) {
			ss.openRound()
			ss.raw(domain.RoundClosed{Round: 1, Head: "0123456789abcdef"}, meta("DE", 1))
		}, 3, "records the round's head as 0123456789ab"},
		{"a conclusion with a proposal open", func(ss *session) {
			ss.agree("a", "A.")
			ss.table("UA", "b", "B.")
			ss.raw(domain.TextConcluded{Party: "UA", Head: ss.head}, meta("UA", 0))
		}, 7, "cannot be concluded: 1 proposals are open"},
		{"a package left half adopted", func(ss *session) {
			g := ss.table("UA", "g", "G.")
			a := ss.table("UA", "a", "A.")
			ss.do("US", domain.Accept{Proposal: a, Party: "US", SubjectTo: []string{g}})
			ss.accept(a, "EU")
			ss.accept(g, "US")
			ss.raw(domain.ProposalAccepted{Proposal: g, Party: "EU"}, meta("EU", 0))
			ss.raw(domain.ProposalAdopted{Proposal: g, Clause: "g", Revision: 1}, meta("EU", 0))
		}, 8, "ends without its adoption"},
		{"a revision by another party", func(ss *session) {
			id := ss.table("UA", "a", "A.")
			ss.raw(domain.ProposalRevised{Proposal: id, Party: "US", Version: 2, Text: "B."}, meta("US", 0))
		}, 3, "only UA, who tabled proposal"},
		{"a decline of what was not adopted ad referendum", func(ss *session) {
			id := ss.agree("a", "A.")
			ss.raw(domain.AdoptionDeclined{Proposal: id, Party: "US", Clause: "a", Revision: 2}, meta("US", 0))
		}, 6, "awaits the capital of US"},
		{"initials before the conclusion", func(ss *session) {
			ss.raw(domain.TextInitialled{Party: "UA", Head: ss.head}, meta("UA", 0))
		}, 2, "is not concluded"},
		{"unknown type", func(ss *session) {
			ss.rawBytes(sealedBytes(ss, "TreatyRenamed", `{}`))
		}, 2, "unknown event type"},
		{"corrupt data", func(ss *session) {
			ss.rawBytes(sealedBytes(ss, "RoundOpened", `{"round":`))
		}, 2, "RoundOpened data is not valid"},
		{"corrupt metadata", func(ss *session) {
			ss.rawBytes("RoundOpened", []byte(`{"round":1}`), []byte(`{"time":`))
		}, 2, "metadata is not valid"},
		{"no hash", func(ss *session) {
			ss.rawBytes("RoundOpened", []byte(`{"round":1}`), []byte(`{"party":"DE","round":1,"time":"2026-11-16T10:00:00Z","schema":1}`))
		}, 2, "carries no hash"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ss := newSession(t)
			tt.write(ss)
			v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.Problem == nil || v.Problem.Event != tt.event || !strings.Contains(v.Problem.Error(), tt.want) {
				t.Fatalf("got %+v (%v), want event %d: %q", v, v.Problem, tt.event, tt.want)
			}
			// Every read checks what it folds, as verify does: none
			// answers from a log that does not hold together.
			var p *Problem
			if _, err := NewReader(ss.store, "berlin", Options{}).Head(ctx); !errors.As(err, &p) || p.Event != tt.event {
				t.Fatalf("the draft's fold: %v, want a problem at event %d", err, tt.event)
			}
		})
	}
}

// TestVerifyChain changes a sealed log each way someone holding the file
// could, and checks that verify names the first event affected and says
// what was done.
func TestVerifyChain(t *testing.T) {
	write := func(t *testing.T) *session {
		ss := newSession(t) // 1
		ss.openRound()      // 2
		ss.agree("a", "A.") // 3-6
		ss.agree("b", "B.") // 7-10
		ss.closeRound()     // 11
		return ss
	}
	edit := func(i int, f func(e *eventstore.RecordedEvent)) func([]eventstore.RecordedEvent) []eventstore.RecordedEvent {
		return func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent { f(&evs[i]); return evs }
	}
	for _, tt := range []struct {
		name   string
		tamper func([]eventstore.RecordedEvent) []eventstore.RecordedEvent
		event  int
		want   string
	}{
		{"edited data", edit(3, func(e *eventstore.RecordedEvent) {
			e.Data = []byte(strings.Replace(string(e.Data), `"US"`, `"EU"`, 1))
		}), 4, "does not match its hash"},
		{"edited metadata", edit(6, func(e *eventstore.RecordedEvent) {
			e.Metadata = []byte(strings.Replace(string(e.Metadata), `"author":"author-`, `"author":"forger-`, 1))
		}), 7, "does not match its hash"},
		{"changed type", edit(2, func(e *eventstore.RecordedEvent) { e.Type = "ProposalWithdrawn" }), 3, "does not match its hash"},
		{"changed ID", edit(3, func(e *eventstore.RecordedEvent) { e.ID = uuid.New() }), 4, "its ID was changed after it was written"},
		{"hash removed", edit(3, func(e *eventstore.RecordedEvent) {
			var m map[string]any
			json.Unmarshal(e.Metadata, &m)
			delete(m, "hash")
			e.Metadata, _ = json.Marshal(m)
		}), 4, "carries no hash"},
		{"deleted event", func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			return slices.Delete(evs, 4, 5)
		}, 5, "an event before it was deleted, inserted or moved"},
		{"first events deleted", func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			return evs[2:]
		}, 1, "the events before it were deleted"},
		{"reordered events", func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			evs[6], evs[7] = evs[7], evs[6]
			return evs
		}, 7, "an event before it was deleted, inserted or moved"},
		{"inserted event", func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
			dup := evs[5]
			return slices.Insert(evs, 6, dup)
		}, 7, "an event before it was deleted, inserted or moved"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ss := write(t)
			ss.tamper(tt.tamper)
			v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.Problem == nil || v.Problem.Event != tt.event || !strings.Contains(v.Problem.What, tt.want) {
				t.Fatalf("got %v, want event %d: %q", v.Problem, tt.event, tt.want)
			}
			if v.Problem.ID == "" || v.Problem.Type == "" {
				t.Fatalf("the problem does not name the event: %+v", v.Problem)
			}
		})
	}
	// A truncated tail chains perfectly: only a hash cited earlier shows
	// it, and only one cited with its event number proves it.
	ss := write(t)
	cited := ss.head
	ss.tamper(func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent { return evs[:10] })
	if v, _ := Verify(ctx, ss.store, "berlin", VerifyOptions{}); !v.OK {
		t.Fatalf("a truncated log fails without a cited head: %v", v.Problem)
	}
	head := func(h string, event int) VerifyOptions {
		return VerifyOptions{Cited: []Cited{{Hash: h, Event: event, From: "--head"}}}
	}
	v, err := Verify(ctx, ss.store, "berlin", head(cited, 11))
	if err != nil || v.OK || !strings.Contains(v.Problem.What, "has only 10 events") || !strings.Contains(v.Problem.What, "truncated") {
		t.Fatalf("truncation against a head cited with its event: %+v %v", v.Problem, err)
	}
	if _, err := Verify(ctx, ss.store, "berlin", head(cited, 0)); !errors.Is(err, ErrNotCited) || strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("a head no event has, without its number: %v", err)
	}
	ss = write(t)
	v, err = Verify(ctx, ss.store, "berlin", head(strings.ToUpper(ss.head), 0))
	if err != nil || !v.OK || len(v.Cited) != 1 || v.Cited[0].Event != 11 || v.Cited[0].What != "the close of round 1" {
		t.Fatalf("the log's own head: %+v %v %v", v.Cited, v.Problem, err)
	}
	var closed domain.RoundClosed
	evs := ss.stored()
	json.Unmarshal(evs[10].Data, &closed)
	if closed.Head == "" || closed.Head == ss.head {
		t.Fatalf("RoundClosed records head %q", closed.Head)
	}
	if v, _ := Verify(ctx, ss.store, "berlin", head(closed.Head, 10)); !v.OK {
		t.Fatalf("the head recorded at the round's close: %v", v.Problem)
	}
	// A typo is a typo, not tampering: verify names the hash it was
	// probably meant to be.
	typo := []byte(ss.head)
	if typo[20] == 'a' {
		typo[20] = 'b'
	} else {
		typo[20] = 'a'
	}
	_, err = Verify(ctx, ss.store, "berlin", head(string(typo), 0))
	if !errors.Is(err, ErrNotCited) || !strings.Contains(err.Error(), "did you mean "+ss.head+" (event 11, the close of round 1)") {
		t.Fatalf("a mistyped head: %v", err)
	}
	// Cited with the wrong event: the log provably changed there.
	if v, _ := Verify(ctx, ss.store, "berlin", head(ss.head, 9)); v.OK || v.Problem.Event != 9 {
		t.Fatalf("a head cited at another event: %+v", v.Problem)
	}
	for _, bad := range []string{"xyz", ss.head[:12], ss.head[:31]} {
		if _, err := Verify(ctx, ss.store, "berlin", head(bad, 0)); err == nil || errors.Is(err, ErrNotCited) {
			t.Fatalf("a malformed or short head %q: %v", bad, err)
		}
	}
}

func TestVerifySignatures(t *testing.T) {
	// UA, US and EU register keys and endorse each other's: events 3-11.
	write := func(t *testing.T) (*session, ed25519.PrivateKey) {
		ss := newSession(t) // 1
		ss.openRound()      // 2
		keys := ss.keyRing()
		ss.agree("a", "A.") // UA tables, US and EU accept: 12-15
		return ss, keys["UA"]
	}
	ss, _ := write(t)
	v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
	if err != nil || !v.OK || v.Signed != 13 {
		t.Fatalf("signed log: %+v %v", v, err)
	}
	// The ring's registrations and endorsements were made before the keys
	// took effect; every act after is authenticated.
	if a := v.Authentication; a.Authenticated != 4 || a.SignedPending != 9 || a.Unsigned != 2 {
		t.Fatalf("authentication %+v", a)
	}
	for _, k := range v.Keys[:3] {
		if k.Effective == "" || len(k.Pending) != 0 {
			t.Fatalf("keys %+v", v.Keys)
		}
	}
	if v.Keys[3].Party != "DE" || v.Keys[3].Effective != "" {
		t.Fatalf("the mediator's keys %+v", v.Keys[3])
	}
	if v, _ := Verify(ctx, ss.store, "berlin", VerifyOptions{RequireSignatures: true}); v.OK || v.Problem.Event != 1 || !strings.Contains(v.Problem.What, "unsigned act of DE (signatures are required)") {
		t.Fatalf("--require-signatures: %+v", v.Problem)
	}
	_, forger, _ := ed25519.GenerateKey(nil)
	tabled := domain.ProposalTabled{Proposal: "p9", Clause: "z", Party: "UA", Action: domain.ActionInsert, Text: "Z."}
	for _, tt := range []struct {
		name  string
		write func(ss *session, ua ed25519.PrivateKey)
		want  string
	}{
		{"unsigned with a key in effect", func(ss *session, _ ed25519.PrivateKey) {
			ss.raw(tabled, domain.Meta{Party: "UA", Round: 1, Time: ss.at})
		}, "unsigned act of UA, whose key"},
		{"signed with another key", func(ss *session, _ ed25519.PrivateKey) {
			ss.raw(tabled, domain.Meta{Party: "UA", Round: 1, Time: ss.at}, forger)
		}, "is signed with key"},
		{"a forged signature under UA's key ID", func(ss *session, ua ed25519.PrivateKey) {
			id := uuid.New()
			sealed, _ := domain.SealEvent(tabled, domain.Meta{Party: "UA", Round: 1, Time: ss.at, ID: id.String()}, ss.head, ua)
			var m domain.Meta
			json.Unmarshal(sealed.Metadata, &m)
			m.Signature, _ = domain.Sign(forger, m.Hash)
			raw, _ := domain.EncodeMeta(m)
			ss.rawBytesAs(id, sealed.Type, sealed.Data, raw)
		}, "its signature does not match UA's key"},
		{"a party signs for another", func(ss *session, ua ed25519.PrivateKey) {
			// UA's key, claiming to be the mediator: DE has no key, and
			// an act may be signed only with the acting party's.
			ss.raw(domain.ProposalTabled{Proposal: "p9", Clause: "z", Party: "DE", Action: domain.ActionInsert, Text: "Z."}, domain.Meta{Party: "DE", Round: 1, Time: ss.at}, ua)
		}, "which is not a key of DE's in use"},
		{"a rotation not signed by the key in effect", func(ss *session, ua ed25519.PrivateKey) {
			pub, _, _ := ed25519.GenerateKey(nil)
			ss.raw(domain.PartyKeyRegistered{Party: "UA", Key: domain.EncodeKey(pub), Previous: domain.KeyID(ua.Public().(ed25519.PublicKey))},
				domain.Meta{Party: "UA", Round: 1, Time: ss.at}, forger)
		}, "is signed with key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ss, ua := write(t)
			tt.write(ss, ua)
			v, _ := Verify(ctx, ss.store, "berlin", VerifyOptions{})
			if v.OK || v.Problem.Event != 16 || !strings.Contains(v.Problem.What, tt.want) {
				t.Fatalf("got %+v, want event 16: %q", v.Problem, tt.want)
			}
		})
	}
	// A rotation signed with the key in effect; the new key takes effect
	// on the others' endorsements, and acts are signed with it.
	ss, _ = write(t)
	ss.registerKey("UA")
	ss.table("UA", "c", "C.") // still signed with the old key
	ss.endorseAll()
	ss.table("UA", "d", "D.")
	v, _ = Verify(ctx, ss.store, "berlin", VerifyOptions{})
	if !v.OK || v.Authentication.Authenticated != 9 {
		t.Fatalf("after rotation: %+v", v)
	}
	if len(v.Keys[0].Superseded) != 1 {
		t.Fatalf("UA's old key is not superseded: %+v", v.Keys[0])
	}
}

// Signatures are checked many at once, on other cores; a bad one in a long
// log is still named as the first problem, exactly as when each was
// checked alone, whichever batch it falls in and whatever follows it.
func TestVerifyNamesABadSignatureAmongMany(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.keyRing()
	ss.closeRound()
	ss.amendRounds(3, 120, func(i, round int, clause string) string { return fmt.Sprintf("Text %d of round %d.", i, round) })
	clean := ss.stored()
	if len(clean) < 4*sigBatch {
		t.Fatalf("%d events: too few to fill several batches", len(clean))
	}
	v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
	if err != nil || !v.OK || v.Signed != len(clean)-v.Authentication.Unsigned {
		t.Fatalf("the clean log: %+v %v, %d events, %d signed", v.Problem, err, len(clean), v.Signed)
	}
	// resign gives event n (1-based) the signature of another event its
	// party signed: valid in form, by the same key, of another hash.
	resign := func(t *testing.T, evs []eventstore.RecordedEvent, n int) {
		m := mustMeta(t, evs[n-1])
		for from := n - 1; from >= 1; from-- {
			if other := mustMeta(t, evs[from-1]); other.Party == m.Party && other.Key == m.Key && other.Signature != "" {
				m.Signature = other.Signature
				evs[n-1].Metadata, _ = domain.EncodeMeta(m)
				return
			}
		}
		t.Fatalf("no event before %d is signed by %s's key", n, m.Party)
	}
	// signed is the first event signed at or after n (before it, at the
	// log's end).
	signed := func(n int) int {
		for i := n; i <= len(clean); i++ {
			if mustMeta(t, clean[i-1]).Signature != "" {
				return i
			}
		}
		for i := n; ; i-- {
			if mustMeta(t, clean[i-1]).Signature != "" {
				return i
			}
		}
	}
	middle := signed(len(clean) / 2)
	for _, tt := range []struct {
		name string
		bad  []int // events whose signature is changed
	}{
		{"one in the middle", []int{middle}},
		{"the last", []int{signed(len(clean))}},
		{"two in batches apart", []int{middle, signed(len(clean) - 3*sigBatch/2)}},
		{"two in one batch", []int{middle, signed(middle + 5)}},
		{"two in the first batches, the later first", []int{signed(sigBatch + 1), signed(40)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ss.tamper(func([]eventstore.RecordedEvent) []eventstore.RecordedEvent {
				evs := slices.Clone(clean)
				for _, n := range tt.bad {
					resign(t, evs, n)
				}
				return evs
			})
			first := slices.Min(tt.bad)
			party := mustMeta(t, clean[first-1]).Party
			want := &Problem{Event: first, ID: clean[first-1].ID.String(), Type: clean[first-1].Type,
				What: fmt.Sprintf("is not signed by %s: its signature does not match %s's key", party, party)}
			v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
			if err != nil || v.OK || !reflect.DeepEqual(v.Problem, want) {
				t.Fatalf("got %+v %v, want %+v", v.Problem, err, want)
			}
		})
	}
}

// A bad signature among fewer than a batch is named as among many: where
// they are few enough to be checked on the fold's own goroutine
// (sigAlone), and where they are more but fill no batch.
func TestVerifyNamesABadSignatureAmongFew(t *testing.T) {
	for _, acts := range []int{6, 60} {
		t.Run(fmt.Sprintf("%d acts", acts), func(t *testing.T) {
			ss := newSession(t)
			ss.openRound()
			ss.keyRing()
			ss.closeRound()
			ss.amendRounds(1, acts, func(i, round int, clause string) string { return fmt.Sprintf("Text %d.", i) })
			clean := ss.stored()
			var signed []int
			for i, ev := range clean {
				if mustMeta(t, ev).Signature != "" {
					signed = append(signed, i+1)
				}
			}
			if few := len(signed) <= sigAlone; few != (acts == 6) || len(signed) >= sigBatch {
				t.Fatalf("%d signed events: not the case the test is for", len(signed))
			}
			bad := signed[len(signed)/2]
			ss.tamper(func([]eventstore.RecordedEvent) []eventstore.RecordedEvent {
				evs := slices.Clone(clean)
				m := mustMeta(t, evs[bad-1])
				m.Signature = mustMeta(t, evs[signed[0]-1]).Signature
				evs[bad-1].Metadata, _ = domain.EncodeMeta(m)
				return evs
			})
			v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{})
			if err != nil || v.OK || v.Problem == nil || v.Problem.Event != bad || !strings.Contains(v.Problem.What, "is not signed by") {
				t.Fatalf("event %d's signature replaced: got %+v %v", bad, v.Problem, err)
			}
		})
	}
}

func mustMeta(t *testing.T, ev eventstore.RecordedEvent) domain.Meta {
	t.Helper()
	m, err := domain.DecodeMeta(ev.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// With every key pinned at the opening, and the opening made by a party
// whose key is pinned, every act is authenticated and verify
// --require-signatures passes; a party without a pinned key fails it.
func TestRequireSignaturesWithPinnedKeys(t *testing.T) {
	ss := &session{t: t, store: newTestStore(), treaty: "berlin", at: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC), privs: map[string]ed25519.PrivateKey{}}
	pins := map[string]string{}
	for _, p := range []string{"UA", "US", "EU", "DE"} {
		pins[p] = domain.EncodeKey(ss.newKey(p).Public().(ed25519.PublicKey))
	}
	ss.do("UA", domain.OpenTreaty{Treaty: "berlin", Title: "Berlin", Parties: []domain.Party{
		{Code: "UA", Role: domain.RoleParty}, {Code: "US", Role: domain.RoleParty}, {Code: "EU", Role: domain.RoleParty}, {Code: "DE", Role: domain.RoleObserver},
	}, Keys: pins})
	ss.openRound()
	ss.agree("a", "A.")
	ss.closeRound()
	v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{RequireSignatures: true})
	if err != nil || !v.OK || v.Authentication.Authenticated != v.Events || v.Authentication.Unsigned != 0 {
		t.Fatalf("pinned keys: %+v %v", v, err)
	}
	// A ring of endorsed keys passes too: the ceremony's acts were signed
	// with keys that took effect.
	ring := newSession(t)
	ring.keyRing()
	ring.registerKey("DE")
	ring.endorseAll()
	if v, _ := Verify(ctx, ring.store, "berlin", VerifyOptions{RequireSignatures: true}); v.OK || v.Problem.Event != 1 {
		t.Fatalf("an anonymous-party opening passed --require-signatures: %+v", v.Problem)
	}
	// A key that never took effect signs nothing that counts.
	lone := newSession(t)
	lone.registerKey("UA")
	lone.table("UA", "x", "X.")
	if v, _ := Verify(ctx, lone.store, "berlin", VerifyOptions{}); !v.OK || v.Authentication.Authenticated != 0 || v.Authentication.SignedPending != 2 {
		t.Fatalf("a pending key: %+v %v", v.Authentication, v.Problem)
	}
}

// TestRenderersEscape feeds hostile text to every renderer: it must come out
// as text, never as markup.
func TestRenderersEscape(t *testing.T) {
	hostile := "<script>alert(1)</script> & *bold* _x_ # [link](http://x) `code` | ~~s~~\n- item\n1. first"
	ss := newSession(t)
	ss.openRound()
	ss.agree("a", "Plain text.", withHeading("<b>Heading</b>"))
	ss.closeRound()
	ss.openRound()
	ss.agree("a", hostile)
	ss.table("US", "a", hostile+" more")
	r := NewReader(ss.store, "berlin", withCheckpoints)
	m, _ := r.Head(ctx)
	d := BuildDraft(m, DraftOptions{})
	diff, err := r.Redlines(ctx, ref(t, "round:1"), ref(t, "round:2"), CompareOptions{Whole: true})
	if err != nil {
		t.Fatal(err)
	}
	var h1, h2, m1, m2 bytes.Buffer
	if err := WriteDraftHTML(&h1, d); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiffHTML(&h2, diff, CompareSide); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{h1.String(), h2.String()} {
		if strings.Contains(page, "<script") || strings.Contains(page, "<b>") || !strings.Contains(page, "&lt;script&gt;") {
			t.Fatalf("HTML lets markup through:\n%s", page)
		}
		if strings.Contains(page, "src=") || strings.Contains(page, "<link") || strings.Contains(page, "@import") {
			t.Fatalf("HTML is not self-contained:\n%s", page)
		}
		if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
			t.Fatalf("not a whole page")
		}
	}
	if !strings.Contains(h2.String(), "<ins>") || !strings.Contains(h2.String(), "<del>") {
		t.Fatalf("redline HTML has no <ins>/<del>:\n%s", h2.String())
	}
	if err := WriteDraftMarkdown(&m1, d); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiffMarkdown(&m2, diff); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{m1.String(), m2.String()} {
		for _, raw := range []string{"<script>", "*bold*", "_x_", "[link]", "`code`", "\n- item", "\n1. first"} {
			if strings.Contains(page, raw) {
				t.Errorf("Markdown keeps %q unescaped:\n%s", raw, page)
			}
		}
	}
	if !strings.Contains(m1.String(), `\*bold\*`) || !strings.Contains(m1.String(), `&lt;script&gt;`) {
		t.Errorf("Markdown escaping:\n%s", m1.String())
	}
}

// A bracket's redline is against the text its proposal was drafted
// against: a stale proposal is not blamed for words that entered after it.
func TestDraftRedlinesAgainstBase(t *testing.T) {
	ss := newSession(t)
	ss.agree("a", "The Parties shall consult.")
	us := ss.table("US", "a", "The Parties shall consult promptly.")
	ss.agree("a", "The Parties shall consult within 24 hours.")
	m, err := NewReader(ss.store, "berlin", Options{}).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := BuildDraft(m, DraftOptions{Redlines: true})
	p := d.Clauses[0].OpenProposals[0]
	if p.ID != us || !p.Stale {
		t.Fatalf("want the stale US proposal, got %+v", p)
	}
	want := []redline.Op{{Kind: redline.Equal, Text: "The Parties shall consult"}, {Kind: redline.Insert, Text: " promptly"}, {Kind: redline.Equal, Text: "."}}
	if !reflect.DeepEqual(p.Ops, want) {
		t.Fatalf("stale proposal redlined as %+v, want %+v (against its base revision)", p.Ops, want)
	}
	var html strings.Builder
	if err := WriteDraftHTML(&html, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "<del>within 24 hours</del>") || !strings.Contains(html.String(), "<ins> promptly</ins>") {
		t.Fatalf("the HTML draft redlines the stale proposal against the current text:\n%s", html.String())
	}
	if plain := BuildDraft(m, DraftOptions{}); plain.Clauses[0].OpenProposals[0].Ops != nil {
		t.Fatal("redlines computed without being asked for")
	}
}

// A checkpoint that authenticates but disagrees with the log (a faulty
// build, or someone holding this machine's secret) is found by verify,
// which deletes it and says so.
func TestVerifyComparesCheckpoints(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("fund", "The Fund holds 100 million euro.")
	ss.closeRound()
	r := NewReader(ss.store, "berlin", withCheckpoints)
	m := checkpointed(t, r)
	v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{Checkpoints: r})
	if err != nil || !v.OK || v.Checkpoints != 2 {
		t.Fatalf("honest checkpoints: %+v %v", v, err)
	}
	m.State.Clauses["fund"].Text = "The Fund holds 999 million euro."
	if err := r.cps.SaveHead(ctx, m.State, checkpointAt(m)); err != nil {
		t.Fatal(err)
	}
	v, err = Verify(ctx, ss.store, "berlin", VerifyOptions{Checkpoints: r})
	if err != nil || v.OK || v.Problem.Event != ss.s.Events || !strings.Contains(v.Problem.What, `checkpoint "head"`) {
		t.Fatalf("a checkpoint that lies: %+v %v", v.Problem, err)
	}
	if got, _ := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx); got.State.Clauses["fund"].Text != "The Fund holds 100 million euro." {
		t.Fatal("the lying checkpoint still answers")
	}
}

// Verify with Upto stops where it is told, as if the log ended there; an
// audit's verification covers the events its report was gathered from.
func TestVerifyUpto(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	p := ss.table("UA", "fund", "The Fund holds 100 million euro.")
	ss.accept(p, "US", "EU")
	ss.closeRound()
	n := ss.s.Events
	for _, upto := range []int{1, n - 1, n, n + 5} {
		v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{Upto: upto})
		if err != nil || !v.OK || v.Events != min(upto, n) {
			t.Fatalf("upto %d: %+v %v", upto, v, err)
		}
	}
	r := NewReader(ss.store, "berlin", withCheckpoints)
	a, list, err := r.AuditList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	if !a.Verification.OK || a.Verification.Events != a.AsOf.Event || a.AsOf.Event != n {
		t.Fatalf("the audit's verification covers %d events, its report %d (log %d)", a.Verification.Events, a.AsOf.Event, n)
	}
}

// A head checkpoint whose closed proposals lie is found by verify at the
// first round checkpoint whose closed proposals are cut from it, and it is
// the head that is deleted; honest checkpoints are each compared once.
func TestVerifyComparesClosedProposals(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	adopted := ss.table("UA", "fund", "The Fund holds 100 million euro.")
	ss.accept(adopted, "US", "EU")
	ss.closeRound()
	ss.openRound()
	ss.agree("review", "The Parties shall review it yearly.")
	ss.closeRound()
	ss.agree("late", "Agreed between rounds.")
	r := NewReader(ss.store, "berlin", withCheckpoints)
	// A fold from the first event leaves both rounds' checkpoints.
	if _, err := r.fold(ctx, &domain.State{}, -1, Point{}, true); err != nil {
		t.Fatal(err)
	}
	m := checkpointed(t, r)
	v, err := Verify(ctx, ss.store, "berlin", VerifyOptions{Checkpoints: r})
	if err != nil || !v.OK || v.Checkpoints != 3 {
		t.Fatalf("honest checkpoints: %+v %v", v, err)
	}
	// The head saved again, one closed proposal said to be of another round.
	lie := domain.NewClosedProposals()
	for c, err := range m.State.ClosedProposals() {
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == adopted {
			c.Round = 2
		}
		lie.Add(c)
	}
	m.State.Closed = lie
	if err := r.cps.SaveHead(ctx, m.State, checkpointAt(m)); err != nil {
		t.Fatal(err)
	}
	v, err = Verify(ctx, ss.store, "berlin", VerifyOptions{Checkpoints: r})
	round1 := ss.s.Rounds[0].Closed
	if err != nil || v.OK || v.Problem.Event != round1 || !strings.Contains(v.Problem.What, `checkpoint "head" (the closed proposals of checkpoint "round-1"`) {
		t.Fatalf("a head whose closed proposals lie: %+v %v", v.Problem, err)
	}
	got, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c, _, _ := got.State.Closed.Lookup(adopted); c.Round != 1 {
		t.Fatalf("the lying head still answers: round %d", c.Round)
	}
}

// TestCompareCountsAdoptions holds the compare document for people (the last
// few adoptions of each clause and each party's count, from the two moments
// alone) to the JSON's (every adoption, from the closed proposals), between
// every two moments of a negotiation whose clauses change more often than
// the document lists, with checkpoints and without.
func TestCompareCountsAdoptions(t *testing.T) {
	ss := newSession(t)
	ss.amendRounds(4, 9, func(i, round int, clause string) string {
		return fmt.Sprintf("Text %d of clause %s in round %d.", i, clause, round)
	})
	ctx := context.Background()
	for _, opts := range []Options{{}, withCheckpoints} {
		r := NewReader(ss.store, "berlin", opts)
		for from := 1; from <= ss.s.Events; from += 7 {
			for to := from; to <= ss.s.Events; to += 9 {
				a, b := ref(t, fmt.Sprintf("@%d", from)), ref(t, fmt.Sprintf("@%d", to))
				every, err := r.Redlines(ctx, a, b, CompareOptions{Whole: true, EveryAdoption: true})
				if err != nil {
					t.Fatal(err)
				}
				recent, err := r.Redlines(ctx, a, b, CompareOptions{Whole: true})
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range every.Clauses {
					d := recent.Clauses[i]
					want, wantBy := adoptionSummary(c, every.Parties)
					got, gotBy := adoptionSummary(d, recent.Parties)
					// The JSON without every adoption: the last few of them,
					// and the same counts.
					last := c.Adopted[max(0, len(c.Adopted)-domain.RecentAdoptions):]
					if !slices.Equal(got, want) || gotBy != wantBy || !slices.Equal(d.Adopted, last) ||
						c.Adoptions.Total != len(c.Adopted) || d.Adoptions.Total != c.Adoptions.Total ||
						!maps.Equal(c.Adoptions.ByParty, d.Adoptions.ByParty) {
						t.Fatalf("@%d to @%d, clause %s: from the moments %v %q %v, from the closed proposals %v %q %v",
							from, to, c.ID, d.Adopted, gotBy, d.Adoptions, c.Adopted, wantBy, c.Adoptions)
					}
					for _, p := range []string{"UA", "US", "EU"} {
						n := 0
						for _, a := range c.Adopted {
							if a.Party == p {
								n++
							}
						}
						if d.AdoptedBy(p) != n {
							t.Fatalf("@%d to @%d, clause %s: %s adopted %d of its proposals, AdoptedBy says %d", from, to, c.ID, p, n, d.AdoptedBy(p))
						}
					}
				}
			}
		}
	}
}

// TestCompareToHeadWithConditionsFromCheckpoint: a compare to head listing
// every adoption reads the head's closed proposals (restored from a
// checkpoint, not yet read) for the adoptions while the open proposals are
// listed, and listing one whose acceptance is subject to a closed proposal
// reads them too. Run under the race detector: the two must not read the
// record at once.
func TestCompareToHeadWithConditionsFromCheckpoint(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	g := ss.agree("guarantees", "The guarantees are binding.")
	ss.agree("alliance", "Membership.")
	a := ss.table("US", "alliance", "No membership.")
	ss.do("UA", domain.Accept{Proposal: a, Party: "UA", SubjectTo: []string{g}})
	ctx := context.Background()
	checkpointed(t, NewReader(ss.store, "berlin", withCheckpoints))
	for range 5 {
		d, err := NewReader(ss.store, "berlin", withCheckpoints).Redlines(ctx, ref(t, "@1"), ref(t, "head"), CompareOptions{Whole: true, EveryAdoption: true})
		if err != nil {
			t.Fatal(err)
		}
		var alliance *ClauseChange
		for i, c := range d.Clauses {
			if c.ID == "alliance" {
				alliance = &d.Clauses[i]
			}
			if c.ID == "guarantees" && len(c.Adopted) != 1 {
				t.Fatalf("guarantees: adopted %v, want %s", c.Adopted, g)
			}
		}
		if alliance == nil || len(alliance.OpenProposals) != 1 {
			t.Fatalf("alliance: %+v", alliance)
		}
		if cs := alliance.OpenProposals[0].Conditional; len(cs) != 1 || len(cs[0].Adopted) != 1 || !cs[0].Adopted[0] {
			t.Fatalf("the acceptance subject to %s, adopted: %+v", g, cs)
		}
	}
}

// A checkpoint binds to the event it ended at, checked in the read of the
// events after it: copied into another log of the same negotiation and
// length (the same acts, one text changed), the head's, the rounds' and the
// head's summary are not used, whether or not events follow them there.
func TestCheckpointsOfAnotherLogNotUsed(t *testing.T) {
	run := func(word string) *session {
		ss := newSession(t)
		for round := range 3 {
			ss.openRound()
			ss.agree("a", fmt.Sprintf("The %s text of round %d.", word, round+1))
			ss.table("UA", "b", fmt.Sprintf("An open text of round %d.", round+1))
			ss.closeRound()
		}
		return ss
	}
	mine, other := run("first"), run("second")
	refs := []string{"head", "round:1", "round:2", "round:3"}
	saver := NewReader(other.store, "berlin", withCheckpoints)
	for _, rs := range refs {
		if _, err := saver.At(ctx, ref(t, rs)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(other.store.cacheKeys(t)); n < 4 {
		t.Fatalf("the other log left %d checkpoints, want a head and one per round", n)
	}
	for _, k := range other.store.cacheKeys(t) {
		v, _ := other.store.CacheGet(ctx, k)
		_ = mine.store.CachePut(ctx, k, v)
	}
	if _, _, ok := NewReader(mine.store, "berlin", withCheckpoints).headSummary(ctx); ok {
		t.Fatal("the head summary of another log was used")
	}
	check := func(when string) {
		t.Helper()
		for _, rs := range refs {
			got, err := NewReader(mine.store, "berlin", withCheckpoints).At(ctx, ref(t, rs))
			if err != nil {
				t.Fatalf("%s, %s: %v", when, rs, err)
			}
			want, err := NewReader(mine.store, "berlin", Options{}).At(ctx, ref(t, rs))
			if err != nil {
				t.Fatal(err)
			}
			ja, _ := json.Marshal(BuildDraft(got, DraftOptions{}))
			jb, _ := json.Marshal(BuildDraft(want, DraftOptions{}))
			if !bytes.Equal(ja, jb) || got.State.Events != want.State.Events {
				t.Fatalf("%s, %s: with the other log's checkpoints\n%s\nfrom the log alone\n%s", when, rs, ja, jb)
			}
		}
	}
	check("no event past them")
	// Again, the other log's checkpoints copied over this log's own, with
	// events past them.
	for _, k := range other.store.cacheKeys(t) {
		v, _ := other.store.CacheGet(ctx, k)
		_ = mine.store.CachePut(ctx, k, v)
	}
	mine.table("US", "c", "Tabled past the checkpoints.")
	mine.table("EU", "d", "And another.")
	check("events past them")
}
