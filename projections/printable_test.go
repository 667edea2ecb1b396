package projections

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// old appends an event as a treaty before the rules on hidden characters
// wrote it: sealed and folded, never decided.
func (ss *session) old(party string, e domain.Event) {
	ss.t.Helper()
	ss.at = ss.at.Add(time.Minute)
	ss.raw(e, domain.Meta{Party: party, Author: "author-" + party, Round: ss.s.RoundOf(e), Time: ss.at})
	if err := ss.s.Evolve(e); err != nil {
		ss.t.Fatal(err)
	}
}

// escaped matches a hidden character shown as an escape.
var escaped = regexp.MustCompile(`\\u(202e|2067|200b)`)

// hidden lists characters no rendering for people may pass through raw.
var hidden = []string{"\u202e", "\u202c", "\u2066", "\u2069", "\u200b", "\ufeff", "\u00ad", "\x1b"}

// Every renderer for people shows bidirectional controls and invisible
// characters of an older log as escapes: "Trojan Source" text reads as
// stored, in text, Markdown and HTML.
func TestRenderersShowHiddenCharacters(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	heading := "Sum\u2066x\u2069"
	ss.old("UA", domain.ProposalTabled{Proposal: "00010000-0000-4000-8000-000000000000", Clause: "a", Party: "UA", Action: domain.ActionInsert,
		Text: "The sum is 0\u202e0001\u202c euros.\nPay\u200bment is due.", Heading: &heading, Note: "no\ufeffte"})
	ss.accept("00010000-0000-4000-8000-000000000000", "US", "EU")
	ss.closeRound()
	ss.old("DE", domain.RoundOpened{Round: 2, Name: "Kyiv \u2067II\u2069"})
	ss.old("US", domain.ProposalTabled{Proposal: "00020000-0000-4000-8000-000000000000", Clause: "a", Party: "US", Action: domain.ActionAmend,
		Text: "The sum is 0\u202e9999\u202c euros.", BaseRevision: 1, Note: "soft\u00adhyphen"})
	ss.old("EU", domain.ProposalObjected{Proposal: "00020000-0000-4000-8000-000000000000", Party: "EU", Reason: "re\u200bason"})

	r := NewReader(ss.store, "berlin", Options{})
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d := BuildDraft(head, DraftOptions{Redlines: true})
	diff, err1 := r.Redlines(ctx, ref(t, "round:1:start"), ref(t, "head"), CompareOptions{})
	blame, err2 := r.Blame(ctx, "")
	history, err3 := r.ClauseHistory(ctx, "a")
	audit, err4 := wholeAudit(r)
	show, err5 := r.Proposal(ctx, "0002")
	rounds, err6 := r.Rounds(ctx)
	positions, err7 := BuildPositions(head, PositionsOptions{All: true})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		t.Fatal(err)
	}
	st := Style{Color: true}
	for name, write := range map[string]func(io.Writer) error{
		"draft text":        func(w io.Writer) error { return WriteDraftText(w, d, st) },
		"draft plain":       func(w io.Writer) error { return WriteDraftText(w, d, Style{}) },
		"draft wrapped":     func(w io.Writer) error { return WriteDraftText(w, d, Style{Width: 30}) },
		"draft markdown":    func(w io.Writer) error { return WriteDraftMarkdown(w, d) },
		"draft html":        func(w io.Writer) error { return WriteDraftHTML(w, d) },
		"diff text":         func(w io.Writer) error { return WriteDiffText(w, diff, st) },
		"diff plain":        func(w io.Writer) error { return WriteDiffText(w, diff, Style{}) },
		"diff wrapped":      func(w io.Writer) error { return WriteDiffText(w, diff, Style{Width: 30}) },
		"diff markdown":     func(w io.Writer) error { return WriteDiffMarkdown(w, diff) },
		"diff html":         func(w io.Writer) error { return WriteDiffHTML(w, diff, CompareInline) },
		"diff html side":    func(w io.Writer) error { return WriteDiffHTML(w, diff, CompareSide) },
		"positions text":    func(w io.Writer) error { return WritePositionsText(w, positions, st) },
		"positions plain":   func(w io.Writer) error { return WritePositionsText(w, positions, Style{}) },
		"positions wrapped": func(w io.Writer) error { return WritePositionsText(w, positions, Style{Width: 30}) },
		"positions md":      func(w io.Writer) error { return WritePositionsMarkdown(w, positions) },
		"positions html":    func(w io.Writer) error { return WritePositionsHTML(w, positions) },
		"blame text":        func(w io.Writer) error { return WriteBlameText(w, blame, st) },
		"blame html":        func(w io.Writer) error { return WriteBlameHTML(w, blame) },
		"history text":      func(w io.Writer) error { return WriteHistoryText(w, history, st) },
		"audit text":        func(w io.Writer) error { return WriteAuditText(w, audit, st) },
		"audit html":        func(w io.Writer) error { return WriteAuditHTML(w, audit) },
		"proposals text":    func(w io.Writer) error { return WriteProposalsText(w, Proposals(head.State), st) },
		"show text":         func(w io.Writer) error { return WriteProposalText(w, show, st) },
		"rounds text":       func(w io.Writer) error { return WriteRoundsText(w, rounds) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := strings.ReplaceAll(b.String(), "\x1b[", "") // the style's own colours
		for _, h := range hidden {
			if strings.Contains(out, h) {
				t.Errorf("%s passes %U through raw:\n%s", name, []rune(h)[0], b.String())
			}
		}
		if !escaped.MatchString(out) && name != "proposals text" { // a table of IDs and codes
			t.Errorf("%s shows no hidden character as an escape:\n%s", name, b.String())
		}
	}
	// JSON is data: the views keep the text exact.
	if !strings.Contains(d.Clauses[0].Text, "0\u202e0001") {
		t.Errorf("the view itself was changed: %q", d.Clauses[0].Text)
	}
}

// Renderers for people make control characters visible, and keep the
// colours the style adds itself.
func TestRenderersEscapeControlCharacters(t *testing.T) {
	d := Draft{Treaty: "t", Title: "\x1b]0;pwned\x07Title", Clauses: []DraftClause{{ID: "a", Number: 1,
		Heading: "\x1b[2J\x1b[H", Text: "one\x1b[32m ALL GOOD: verified\x1b[0m\nline two\r"}}}
	var b bytes.Buffer
	if err := WriteDraftText(&b, d, Style{Color: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, raw := range []string{"\x1b]0", "\x1b[2J", "\x1b[H", "\x1b[32m", "\x07", "\r"} {
		if strings.Contains(out, raw) {
			t.Errorf("the text draft passes %q through:\n%q", raw, out)
		}
	}
	for _, want := range []string{"\x1b[1m" + `\x1b]0;pwned\x07Title` + "\x1b[0m", `\x1b[2J\x1b[H`, "   one\\x1b[32m ALL GOOD: verified\\x1b[0m\n   line two\\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the text draft lacks %q:\n%q", want, out)
		}
	}
}

// Printable copies what it changes and leaves the view it was given alone:
// views share memory with a negotiation's state.
func TestPrintableCopies(t *testing.T) {
	h := "Head\u202eing"
	d := Draft{Title: "clean", Clauses: []DraftClause{{ID: "a", Text: "x\u200by", OpenProposals: []OpenProposal{{Heading: &h, AcceptedBy: []string{"UA"}}}}}}
	p := Printable(d)
	if h != "Head\u202eing" || d.Clauses[0].Text != "x\u200by" {
		t.Fatalf("Printable changed its argument: %q, %q", h, d.Clauses[0].Text)
	}
	if got := *p.Clauses[0].OpenProposals[0].Heading; got != `Head\u202eing` {
		t.Errorf("heading %q", got)
	}
	if p.Clauses[0].Text != `x\u200by` || p.Title != "clean" || p.Clauses[0].OpenProposals[0].AcceptedBy[0] != "UA" {
		t.Errorf("Printable = %+v", p)
	}
}

// Types first made visible on many goroutines at once: each sees every
// field worked out, never a type half described.
func TestPrintableConcurrentFirstUse(t *testing.T) {
	type note struct{ Text string }
	type entry struct {
		ID    string
		Notes []note
		Next  *entry
	}
	type page struct {
		Title   string
		Entries []entry
	}
	v := page{Title: "a\u202eb", Entries: []entry{{ID: "x\x1b", Notes: []note{{Text: "n\u200b"}}, Next: &entry{ID: "y\u2066"}}}}
	const n = 16
	got := make([]page, n)
	start := make(chan struct{})
	done := make(chan struct{})
	for i := range n {
		go func() {
			<-start
			got[i] = Printable(v)
			done <- struct{}{}
		}()
	}
	close(start)
	for range n {
		<-done
	}
	for _, g := range got {
		for _, s := range []string{g.Title, g.Entries[0].ID, g.Entries[0].Notes[0].Text, g.Entries[0].Next.ID} {
			for _, h := range hidden {
				if strings.Contains(s, h) {
					t.Fatalf("%q passed through raw: %+v", h, g)
				}
			}
		}
	}
}

// A redline, which printable walks without reflection, is made visible as
// any other value: in a copy, op by op, newlines kept, clean ops shared.
// An op holds no text but its Text, or that walk would miss it.
func TestPrintableOps(t *testing.T) {
	ops := []redline.Op{{Kind: redline.Equal, Text: "clean "}, {Kind: redline.Insert, Text: "a\u202eb\nc\x1b"}}
	c := ClauseChange{ID: "a", Ops: ops, OpenProposals: []OpenProposal{{Ops: ops[:1]}}}
	p := Printable(c)
	if ops[1].Text != "a\u202eb\nc\x1b" {
		t.Fatalf("Printable changed its argument: %q", ops[1].Text)
	}
	if got, want := p.Ops[1].Text, `a\u202eb`+"\n"+`c\x1b`; got != want || p.Ops[1].Kind != redline.Insert || p.Ops[0] != ops[0] {
		t.Errorf("ops made visible: %+v, want %q after %+v", p.Ops, want, ops[0])
	}
	if &p.OpenProposals[0].Ops[0] != &ops[0] {
		t.Error("a clean redline was copied")
	}
	typ := reflect.TypeFor[redline.Op]()
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Name != "Text" && textOf(f.Type).holds {
			t.Errorf("redline.Op.%s can hold text, which printableOps does not look at", f.Name)
		}
	}
}

// A compare made visible: the part and the map that hold a hidden
// character are copied and made visible, the view given stays as it was,
// and what is clean is shared, not copied (most of a long compare).
// printableBut makes all but the parts visible, leaving them as they are.
func TestPrintableCopiesOnlyWhatChanges(t *testing.T) {
	clean := map[string]int{"UA": 2, "US": 1}
	d := Diff{Title: "t\u202e", Clauses: []ClauseChange{
		{ID: "a", Adoptions: AdoptionCounts{Total: 3, ByParty: clean}},
		{ID: "b", Adoptions: AdoptionCounts{Total: 1, ByParty: map[string]int{"E\x1bU": 1}}},
		{ID: "c", After: "x\u200by"},
	}}
	p := Printable(d)
	if d.Title != "t\u202e" || d.Clauses[2].After != "x\u200by" || d.Clauses[1].Adoptions.ByParty["E\x1bU"] != 1 {
		t.Fatalf("the view given was changed: %+v", d)
	}
	if p.Title != `t\u202e` || p.Clauses[2].After != `x\u200by` || p.Clauses[1].Adoptions.ByParty[`E\x1bU`] != 1 || len(p.Clauses[1].Adoptions.ByParty) != 1 {
		t.Errorf("made visible: %+v", p)
	}
	if reflect.ValueOf(p.Clauses[0].Adoptions.ByParty).UnsafePointer() != reflect.ValueOf(clean).UnsafePointer() {
		t.Error("a clean map was copied")
	}
	if &p.Clauses[0] == &d.Clauses[0] {
		t.Error("the clauses of the view given were changed in place")
	}
	but := printableBut(d, func(d *Diff) *[]ClauseChange { return &d.Clauses })
	if but.Title != `t\u202e` || &but.Clauses[0] != &d.Clauses[0] || len(but.Clauses) != 3 || d.Title != "t\u202e" {
		t.Errorf("printableBut: title %q, the clauses shared %v (%d of them), the title given %q", but.Title, &but.Clauses[0] == &d.Clauses[0], len(but.Clauses), d.Title)
	}
	d.Clauses = d.Clauses[:1]
	if p := Printable(d); &p.Clauses[0] != &d.Clauses[0] {
		t.Error("clean clauses were copied")
	}
	// A clean map is looked through, not rebuilt beside it.
	c := ClauseChange{ID: "a", Adoptions: AdoptionCounts{ByParty: map[string]int{"UA": 1, "US": 2, "EU": 3, "UK": 4, "DE": 5}}}
	v, tt := reflect.ValueOf(&c).Elem(), textOf(reflect.TypeFor[ClauseChange]())
	if n := testing.AllocsPerRun(100, func() { printable(v, tt) }); n > 4 {
		t.Errorf("a clean clause with a map of five parties made visible in %v allocations", n)
	}
}

// A clause of the text draft and of the positions document is what it
// would be made visible first, as a compare's is (see
// TestCompareClauseTextAsMadeVisible), a proposed heading (printed quoted)
// and a multi-line one included.
func TestDraftAndPositionsClauseTextAsMadeVisible(t *testing.T) {
	heading := func(s string) *string { return &s }
	ops := func(s string) []redline.Op {
		return []redline.Op{{Kind: redline.Delete, Text: "old "}, {Kind: redline.Insert, Text: s}}
	}
	d := Draft{Treaty: "t", Title: "T", Parties: []domain.Party{{Code: "UA"}, {Code: "US"}}}
	drafts := []DraftClause{
		{ID: "clean", Number: 1, Heading: "Scope", Text: "The text.", Status: StatusOpen,
			OpenProposals: []OpenProposal{{ID: "p-1", Party: "US", Action: domain.ActionAmend, Text: "New text.", Heading: heading("Reach"), Note: "a note"}}},
		{ID: "hidden-text", Number: 2, Heading: "Sum", Text: "0\u202e1", Status: StatusAgreed},
		{ID: "hidden-heading", Number: 3, Heading: "Title", Text: "Plain.", Status: StatusOpen,
			OpenProposals: []OpenProposal{{ID: "p-2", Party: "UA", Action: domain.ActionAmend, Text: "Plain too.", Heading: heading("Ti\u200btle")}}},
		{ID: "heading-lines", Number: 4, Heading: "One", Text: "Plain.", Status: StatusOpen,
			OpenProposals: []OpenProposal{{ID: "p-3", Party: "UA", Action: domain.ActionAmend, Text: "Plain.", Heading: heading("Two\nlines")}}},
		{ID: "hidden-proposal", Number: 5, Text: "", Status: StatusOpen,
			OpenProposals: []OpenProposal{{ID: "p-4", Party: "US", Action: domain.ActionInsert, Text: "a\x1bb", Heading: heading("New")}}},
	}
	positions := []PositionsClause{
		{ID: "clean", Number: 1, Shown: "Scope", Agreed: "The text.", Columns: map[string]*PositionsColumn{
			"UA": {Positions: []ColumnPosition{{Proposal: "p-1", Proposer: "US", Position: "objects", Reason: "not so"}}},
			"US": {Proposals: []ColumnProposal{{Proposal: "p-1", Party: "US", Action: domain.ActionAmend, Text: "New text.", Ops: ops("New text.")}}}}},
		{ID: "hidden-agreed", Number: 2, Shown: "Sum", Agreed: "0\u202e1", Columns: map[string]*PositionsColumn{"UA": {}, "US": {}}},
		{ID: "hidden-reason", Number: 3, Shown: "Title", Agreed: "Plain.", Columns: map[string]*PositionsColumn{
			"UA": {Positions: []ColumnPosition{{Proposal: "p-2", Proposer: "US", Position: "objects", Reason: "re\u200bason"}}},
			"US": {Proposals: []ColumnProposal{{Proposal: "p-2", Party: "US", Action: domain.ActionAmend, Text: "x", Ops: ops("a\x1bb")}}}}},
	}
	heads := positionsHeads([]ColumnHead{{Code: "UA"}, {Code: "US"}})
	// Styled, a clause is always made visible first: only the unstyled
	// forms read the block back.
	for _, st := range []Style{{}, {Width: 24}} {
		for _, c := range drafts {
			render := func(c DraftClause) string { return draftClauseText(d, c, st) }
			got, want := visibleText(c, st, render), render(Printable(c))
			if got != want {
				t.Errorf("%+v, draft clause %s:\n%q\nwant\n%q", st, c.ID, got, want)
			}
			// The proposed heading as made visible line by line, then
			// quoted: what the draft printed before clauses were read back.
			if heading, ok := map[string]string{"hidden-heading": `heading "Ti\\u200btle"`, "heading-lines": `heading "Two\nlines"`}[c.ID]; ok && st.Width == 0 && !strings.Contains(got, heading) {
				t.Errorf("draft clause %s does not show %s:\n%s", c.ID, heading, got)
			}
		}
		for _, c := range positions {
			render := func(c PositionsClause) string { return positionsClauseText(c, heads, st) }
			if got, want := visibleText(c, st, render), render(Printable(c)); got != want {
				t.Errorf("%+v, positions clause %s:\n%q\nwant\n%q", st, c.ID, got, want)
			}
		}
	}
}

// A compare's clause in text is what it would be made visible first,
// whether or not it holds anything to make visible, with and without
// styling: rendering it as it is, when that shows nothing hidden, changes
// no byte.
func TestCompareClauseTextAsMadeVisible(t *testing.T) {
	ops := func(s string) []redline.Op {
		return []redline.Op{{Kind: redline.Delete, Text: "old "}, {Kind: redline.Insert, Text: s}}
	}
	parties := []domain.Party{{Code: "UA"}, {Code: "US"}}
	clauses := []ClauseChange{
		{ID: "clean", Change: ChangeModified, Before: "old text", After: "new text", Ops: ops("new text"), NumberBefore: 1, NumberAfter: 1,
			Adoptions: AdoptionCounts{Total: 1, ByParty: map[string]int{"UA": 1}}, Adopted: []Attribution{{ID: "p-1", Party: "UA", Event: 3}},
			OpenProposals: []OpenProposal{{ID: "p-2", Party: "US", Text: "newer", Ops: ops("newer"), AcceptedBy: []string{"UA"}}}},
		{ID: "hidden-text", Change: ChangeModified, Before: "old", After: "0\u202e1", Ops: ops("0\u202e1"), NumberAfter: 2},
		{ID: "hidden-proposal", Change: ChangeModified, Ops: ops("x"), NumberAfter: 3,
			OpenProposals: []OpenProposal{{ID: "p-3", Party: "US", Ops: ops("a\x1bb"), ObjectedBy: []string{"U\u200bA"}}}},
		{ID: "hidden-unprinted", Change: ChangeModified, Before: "b\u202e", After: "a\u202e", Ops: ops("x"), NumberAfter: 4},
		{ID: "line\rbreak", Change: ChangeAdded, After: "one\ntwo\tthree", Ops: []redline.Op{{Kind: redline.Insert, Text: "one\ntwo\tthree"}}, NumberAfter: 5},
	}
	for _, st := range []Style{{}, {Width: 24}, {Color: true}} {
		for _, c := range clauses {
			want := diffClauseText(Printable(c), parties, st)
			if got := visibleText(c, st, func(c ClauseChange) string { return diffClauseText(c, parties, st) }); got != want {
				t.Errorf("%+v, clause %s:\n%q\nwant\n%q", st, c.ID, got, want)
			}
		}
	}
}

// writesOf records what is written to it and the size of each Write (its
// only method: no WriteString to be written through).
type writesOf struct {
	b     strings.Builder
	sizes []int
	fail  bool
}

func (w *writesOf) Write(p []byte) (int, error) {
	if w.fail {
		return 0, errors.New("the reader went away")
	}
	w.sizes = append(w.sizes, len(p))
	return w.b.Write(p)
}

// writeJoined writes parts in order, to a plain Writer in a few writes of
// at most joinBuffer bytes, however the strings fall; nothing for nothing;
// the writer's error as it comes.
func TestWriteJoined(t *testing.T) {
	long := strings.Repeat("a long clause. ", joinBuffer/10)
	parts := [][]string{{"head\n"}, {long, "short", long}, {"", long + "tail\n"}}
	var want strings.Builder
	for _, p := range parts {
		for _, s := range p {
			want.WriteString(s)
		}
	}
	var w writesOf
	if err := writeJoined(&w, parts...); err != nil {
		t.Fatal(err)
	}
	if w.b.String() != want.String() {
		t.Fatalf("wrote %d bytes, not the %d of the parts in order", w.b.Len(), want.Len())
	}
	if most := (want.Len() + joinBuffer - 1) / joinBuffer; len(w.sizes) > most || slices.Max(w.sizes) > joinBuffer {
		t.Fatalf("writes of %v bytes: want at most %d, of at most %d bytes", w.sizes, most, joinBuffer)
	}
	var none writesOf
	if err := writeJoined(&none, []string{}, []string{""}); err != nil || len(none.sizes) != 0 {
		t.Fatalf("nothing to write: %v writes, %v", none.sizes, err)
	}
	if err := writeJoined(&writesOf{fail: true}, parts...); err == nil {
		t.Fatal("the writer's error was not returned")
	}
}
