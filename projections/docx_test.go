package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/testtool"
	"github.com/treaty-engine/treaty/projections/wordml"
	"github.com/treaty-engine/treaty/projections/wordml/wordmltest"
)

// docxSession is a small negotiation with what the Word draft must show:
// agreed text of several lines, options of a bracket, a deletion, a clause
// without agreed text, a long clause ID, Cyrillic.
func docxSession(t *testing.T) *session {
	ss := newSession(t)
	ss.agree("scope", "This Framework applies to Ukraine.\nIt applies at sea.", withHeading("Scope"))
	ss.agree("a-very-long-clause-identifier-of-more-than-forty-characters", "Сторони співпрацюють.", withHeading("Співпраця"))
	ss.agree("review", "The Parties shall review it yearly.", withHeading("Review"))
	ss.table("US", "scope", "This Framework applies to Ukraine and its waters.")
	ss.table("UA", "scope", "This Framework applies to Ukraine.\nIt applies at sea and in the air.")
	ss.table("EU", "review", "", deleting)
	m := ss.table("UA", "monitoring", "A Commission shall monitor.", withHeading("Monitoring"))
	ss.do("DE", domain.CommentOn{Proposal: m, Party: "DE", Text: "Which Commission?\nA second line."})
	return ss
}

func (ss *session) docx(t *testing.T) (Draft, []byte) {
	t.Helper()
	r := NewReader(ss.store, ss.treaty, Options{})
	m, err := r.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Draft(context.Background(), m, DraftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	times, err := r.ProposalTimes(context.Background(), d, m.State)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDraftDocx(&buf, d, m.State, times); err != nil {
		t.Fatal(err)
	}
	return d, buf.Bytes()
}

// plan reads data back against the negotiation now, as of the draft d it
// was exported from.
func (ss *session) plan(t *testing.T, d Draft, data []byte, rebase bool) (DocxImport, error) {
	return ss.planAs(t, "UA", d, data, rebase)
}

// planAs is plan for party.
func (ss *session) planAs(t *testing.T, party string, d Draft, data []byte, rebase bool) (DocxImport, error) {
	t.Helper()
	f, ident, err := ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if ident.Negotiation != "berlin" || ident.Event != d.AsOf.Event || ident.Hash != d.AsOf.Hash {
		t.Fatalf("identification %+v, draft at %+v", ident, d.AsOf)
	}
	return ss.planFile(t, f, d, party, rebase)
}

// planFile plans the import of f, read from a document of d, by party.
func (ss *session) planFile(t *testing.T, f *wordml.File, d Draft, party string, rebase bool) (DocxImport, error) {
	t.Helper()
	r := NewReader(ss.store, ss.treaty, Options{})
	head, err := r.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	times, err := r.ProposalTimes(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return PlanDocxImport(f, d, times, head.State, party, rebase)
}

func TestDocxDraftReadsBack(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	plan, err := ss.plan(t, d, data, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Proposals) != 0 || len(plan.Skipped) != 0 {
		t.Fatalf("an unedited draft: %+v", plan)
	}
	f, _, _ := ReadDocx(bytes.NewReader(data), int64(len(data)))
	name, short := ClauseBookmark("a-very-long-clause-identifier-of-more-than-forty-characters")
	if !short || len(name) != 40 || f.Props[PropBookmark+name] == "" {
		t.Errorf("the long ID's bookmark %q (%v), props %v", name, short, f.Props)
	}
	got := testtool.PandocTracked(t, writeTemp(t, data))
	want := map[string]bool{
		"insertion Ukraine (UA) [Option 2 (UA)] This Framework applies to Ukraine.":          false,
		"insertion United States (US) [Option 1 (US)] This Framework applies to Ukraine and": false,
		"deletion European Union (EU) The Parties shall review it yearly.":                   false,
		"insertion Ukraine (UA) [UA] A Commission shall monitor.":                            false,
	}
	for _, c := range got {
		for w := range want {
			if strings.HasPrefix(c.Kind+" "+c.Author+" "+c.Text, w) {
				want[w] = true
			}
		}
	}
	for w, ok := range want {
		if !ok {
			t.Errorf("pandoc does not see %q in %+v", w, got)
		}
	}
	// The comment on UA's proposal, as pandoc reads it.
	md, err := exec.Command(testtool.Need(t, "pandoc", "pandoc"), "--track-changes=all", "-t", "markdown", writeTemp(t, data)).Output()
	if err != nil || !strings.Contains(string(md), `.comment-start`) || !strings.Contains(string(md), `author="Germany (DE)"`) || !strings.Contains(string(md), "Which Commission?") {
		t.Errorf("pandoc sees no comment by Germany (DE) (%v):\n%s", err, md)
	}
}

func TestDocxEdits(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	edit := func(f func(d *wordmltest.Doc) error) []byte {
		t.Helper()
		doc, err := wordmltest.Open(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := f(doc); err != nil {
			t.Fatal(err)
		}
		return doc.Bytes()
	}
	for name, c := range map[string]struct {
		edit func(d *wordmltest.Doc) error
		want string // clause action text|heading, ...
	}{
		"heading alone": {func(d *wordmltest.Doc) error { return d.Untracked("1. Scope", "1. Territorial scope") },
			"scope amend |Territorial scope"},
		"second line, tracked": {func(d *wordmltest.Doc) error { return d.Replace("It applies at sea.", "It applies at sea and ashore.") },
			"scope amend This Framework applies to Ukraine.\nIt applies at sea and ashore.|"},
		"a line deleted, tracked": {func(d *wordmltest.Doc) error { return d.Replace("It applies at sea.", "") },
			"scope amend This Framework applies to Ukraine.|"},
		"a new heading without text": {func(d *wordmltest.Doc) error {
			return d.AddClause("4. [Monitoring]", "ignored", "", false)
		}, ""},
		"the deletion accepted in Word": {func(d *wordmltest.Doc) error {
			return d.DeleteClause("3. Review", false)
		}, "review delete |"},
		"a clause moved, tracking off": {func(d *wordmltest.Doc) error { return d.MoveClause("3. Review", "1. Scope") },
			"review amend The Parties shall review it yearly.| after= first=true moved=true"},
		"Cyrillic heading edited": {func(d *wordmltest.Doc) error {
			return d.Replace("Співпраця", "Співпраця сторін")
		},
			"a-very-long-clause-identifier-of-more-than-forty-characters amend |Співпраця сторін"},
	} {
		t.Run(name, func(t *testing.T) {
			plan, err := ss.plan(t, d, edit(c.edit), false)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range plan.Proposals {
				h := ""
				if p.Heading != nil {
					h = *p.Heading
				}
				line := p.Clause + " " + string(p.Action) + " " + p.Text + "|" + h
				if p.Moved {
					line += fmt.Sprintf(" after=%s first=%v moved=true", p.After, p.First)
				}
				got = append(got, line)
			}
			if strings.Join(got, ", ") != c.want {
				t.Errorf("tabled %q, want %q (skipped %+v)", strings.Join(got, ", "), c.want, plan.Skipped)
			}
		})
	}
}

// TestDocxTabledAlready: a file read back twice tables nothing the second
// time, for the party that tabled it; for another party it still would.
func TestDocxTabledAlready(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	doc, err := wordmltest.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Replace("It applies at sea.", "It applies at sea and ashore."); err != nil {
		t.Fatal(err)
	}
	if err := doc.AddClause("3. Review", "Reporting", "The Parties shall report.", true); err != nil {
		t.Fatal(err)
	}
	if err := doc.DeleteClause("3. Review", false); err != nil {
		t.Fatal(err)
	}
	edited := doc.Bytes()
	plan, err := ss.plan(t, d, edited, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Proposals) != 3 {
		t.Fatalf("first reading: %+v", plan.Proposals)
	}
	for _, p := range plan.Proposals {
		t.Logf("%s %s %q after=%q", p.Action, p.Clause, p.Text, p.After)
	}
	ids := map[string]string{}
	for _, p := range plan.Proposals {
		id := fmt.Sprintf("%032d", len(ids)+1)
		id = id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
		ss.do("UA", domain.Table{Proposal: id, Clause: p.Clause, Party: "UA", Text: p.Text, Heading: p.Heading,
			Delete: p.Action == domain.ActionDelete, After: p.After, First: p.First})
		ids[p.Clause] = domain.Short(id)
	}
	again, err := ss.plan(t, d, edited, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Proposals) != 0 || len(again.Skipped) != 3 {
		t.Fatalf("read again: tabled %+v, skipped %+v", again.Proposals, again.Skipped)
	}
	for _, k := range again.Skipped {
		if want := "UA has tabled this already: " + ids[k.Clause]; k.Reason != want {
			t.Errorf("skipped %s: %q, want %q", k.Clause, k.Reason, want)
		}
	}
	var text bytes.Buffer
	if err := WriteDocxImportText(&text, again, "UA", Style{}); err != nil || !strings.Contains(text.String(), "Nothing to table.\n") {
		t.Errorf("%v:\n%s", err, text.String())
	}
	other, err := ss.planAs(t, "US", d, edited, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Proposals) != 3 {
		t.Errorf("as US: tabled %+v, skipped %+v", other.Proposals, other.Skipped)
	}
}

// TestDocxStale refuses a file whose clause changed since, naming it, and
// with rebase carries the change over.
func TestDocxStale(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	doc, _ := wordmltest.Open(data)
	if err := doc.Untracked("The Parties shall review", "The Parties must review"); err != nil {
		t.Fatal(err)
	}
	edited := doc.Bytes()
	p := ss.table("US", "review", "The Parties shall review it yearly and report.")
	ss.accept(p, "UA", "EU")
	_, err := ss.plan(t, d, edited, false)
	if e, ok := err.(*StaleImportError); !ok || len(e.Clauses) != 1 || e.Clauses[0].Clause != "review" || e.Clauses[0].Then != 1 || e.Clauses[0].Now != 2 {
		t.Fatalf("err %v", err)
	}
	plan, err := ss.plan(t, d, edited, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Proposals) != 1 || plan.Proposals[0].Text != "The Parties must review it yearly and report." || !plan.Proposals[0].Rebased {
		t.Fatalf("rebased: %+v", plan.Proposals)
	}
}

func TestClauseSlug(t *testing.T) {
	taken := map[string]bool{"water": true}
	for heading, want := range map[string]string{
		"Water":                     "water-2",
		"Моніторинг води":           "monitorynh-vody",
		"Art. 5 — Final (revised)!": "art-5-final-revised",
		"日本語":                       "clause-7",
		"":                          "clause-7",
	} {
		if got := clauseSlug(heading, 7, taken, nil); got != want || domain.CheckSlug("clause ID", got) != nil {
			t.Errorf("clauseSlug(%q) = %q, want %q", heading, got, want)
		}
	}
	if got := clauseSlug(strings.Repeat("long words ", 20), 1, nil, nil); len(got) > 48 || strings.HasSuffix(got, "-") {
		t.Errorf("a long heading: %q", got)
	}
}

func TestNotTreatyDocx(t *testing.T) {
	var buf bytes.Buffer
	(&wordml.Document{Title: "x"}).Write(&buf)
	if _, _, err := ReadDocx(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil || !strings.Contains(err.Error(), "not made by treaty") {
		t.Fatalf("err %v", err)
	}
}

// TestAKNValid validates the draft (with a bidirectional control an older
// log may hold, multi-line options and Cyrillic) and every proposal as Akoma
// Ntoso against the official schema.
func TestAKNValid(t *testing.T) {
	ss := docxSession(t)
	ss.old("UA", domain.ProposalTabled{Proposal: "old1", Clause: "old", Party: "UA", Action: domain.ActionInsert, Text: "reversed \u202e text"})
	c := ss.table("DE", "review", "The Parties shall review it <yearly> & report.")
	ss.do("UA", domain.CommentOn{Proposal: c, Party: "UA", Text: "Коментар & <note>"})
	r := NewReader(ss.store, ss.treaty, Options{})
	m, err := r.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Draft(context.Background(), m, DraftOptions{Redlines: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := DraftAKN(&buf, d, m.State, m.Point.Time); err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{bytes.Clone(buf.Bytes())}
	for _, p := range Proposals(m.State) {
		pd, err := r.Proposal(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if err := ProposalAKN(&buf, pd, m.State, m.Point, m.Point.Time); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, bytes.Clone(buf.Bytes()))
	}
	testtool.ValidateAKN(t, docs...)
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	f := t.TempDir() + "/draft.docx"
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCompareDocx: the compare document's redline is tracked deletions and
// insertions that pandoc reads, each by the party whose adopted proposal
// made it; a removed clause deleted whole, an added one inserted whole;
// the comments on the proposals as Word comments.
func TestCompareDocx(t *testing.T) {
	ss := newSession(t)
	ss.agree("scope", "This Framework applies to Ukraine.", withHeading("Scope"))
	ss.agree("review", "The Parties shall review it yearly.", withHeading("Review"))
	ss.openRound()
	ss.closeRound()
	p := ss.table("US", "scope", "This Framework applies to Ukraine and its waters.")
	ss.do("DE", domain.CommentOn{Proposal: p, Party: "DE", Text: "Territorial waters only?"})
	ss.accept(p, "UA", "EU")
	p = ss.table("EU", "review", "", deleting)
	ss.accept(p, "UA", "US")
	ss.agree("monitoring", "A Commission shall monitor.", withHeading("Monitoring"))
	open := ss.table("US", "monitoring", "A Joint Commission shall monitor.")
	ss.do("UA", domain.CommentOn{Proposal: open, Party: "UA", Text: "Joint with whom?"})
	r := NewReader(ss.store, ss.treaty, Options{})
	d, err := r.Redlines(context.Background(), ref(t, "round:1"), Head, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := r.CompareExtras(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteDiffDocx(&buf, d, x); err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, buf.Bytes())
	got := map[string]bool{}
	for _, c := range testtool.PandocTracked(t, path) {
		got[c.Kind+" "+c.Author+": "+strings.TrimSpace(c.Text)] = true
	}
	for _, w := range []string{"insertion United States (US): and its waters", "deletion European Union (EU): The Parties shall review it yearly.",
		"deletion European Union (EU): 2. Review", "insertion Ukraine (UA): A Commission shall monitor.", "insertion Ukraine (UA): 2. Monitoring"} {
		if !got[w] {
			t.Errorf("pandoc does not see %q in %v", w, got)
		}
	}
	md, err := exec.Command(testtool.Need(t, "pandoc", "pandoc"), "--track-changes=all", "-t", "markdown", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`author="Germany (DE)"`, "Territorial waters only?", `author="Ukraine (UA)"`, "Joint with whom?", "\\[US\\]"} {
		if !strings.Contains(string(md), w) {
			t.Errorf("pandoc's Markdown has no %s:\n%s", w, md)
		}
	}
}

// TestCompareExtrasComments: the comments a compare's Word document shows
// are those of every adopted proposal it names, made before the earlier
// moment or after it, and of every proposal open at the later one, whatever
// round the fold starts in: the same as a replay of the whole log keeping
// every proposal whole finds.
func TestCompareExtrasComments(t *testing.T) {
	ss := newSession(t)
	ss.agree("scope", "This Framework applies to Ukraine.", withHeading("Scope"))
	ss.agree("review", "The Parties shall review it yearly.", withHeading("Review"))
	ss.openRound()
	early := ss.table("US", "scope", "This Framework applies to Ukraine and its waters.")
	ss.do("DE", domain.CommentOn{Proposal: early, Party: "DE", Text: "Before round 1 closed."})
	ss.closeRound()
	ss.do("UA", domain.CommentOn{Proposal: early, Party: "UA", Text: "After round 1 closed."})
	ss.openRound()
	ss.accept(early, "UA", "EU")
	ss.closeRound()
	ss.openRound()
	late := ss.table("EU", "review", "The Parties shall review it every two years.")
	ss.do("US", domain.CommentOn{Proposal: late, Party: "US", Text: "Why two?"})
	ss.accept(late, "UA", "US")
	// Between the last acceptance and the adoption it completes.
	midAct := len(ss.stored()) - 1
	ss.do("DE", domain.CommentOn{Proposal: late, Party: "DE", Text: "Noted, once adopted."})
	open := ss.table("UA", "review", "The Parties shall review it monthly.")
	ss.do("EU", domain.CommentOn{Proposal: open, Party: "EU", Text: "Too often."})
	ss.closeRound()
	ctx := context.Background()
	// What a replay of everything, keeping every proposal, finds.
	whole := &domain.State{KeepClosed: true}
	for _, e := range ss.stored() {
		ev, err := domain.Decode(e.Type, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := whole.Evolve(ev); err != nil {
			t.Fatal(err)
		}
	}
	// A comment made on a closed proposal stays with it nowhere in the
	// state: the replay keeping every proposal whole holds it.
	if n := len(whole.Proposals[late].Comments); n != 2 {
		t.Fatalf("the adopted proposal has %d comments, want 2 (one made once it was adopted)", n)
	}
	for _, c := range []struct {
		opts Options
		from string
	}{{Options{}, "round:1"}, {withCheckpoints, "round:1"}, {withCheckpoints, fmt.Sprintf("@%d", midAct)}} {
		r := NewReader(ss.store, ss.treaty, c.opts)
		d, err := r.Redlines(ctx, ref(t, c.from), Head, CompareOptions{})
		if err != nil {
			t.Fatal(err)
		}
		x, err := r.CompareExtras(ctx, d)
		if err != nil {
			t.Fatalf("from %s: %v", c.from, err)
		}
		ids := []string{early, late, open}
		if c.from != "round:1" {
			ids = ids[1:] // adopted before the earlier moment: not shown
		}
		for _, id := range ids {
			want := whole.Proposals[id].Comments
			if len(want) == 0 || !reflect.DeepEqual(x.Comments[id], want) {
				t.Fatalf("proposal %s: comments %+v, want %+v", id, x.Comments[id], want)
			}
			for _, c := range want {
				if x.Times[c.Event].IsZero() {
					t.Fatalf("comment at event %d has no time", c.Event)
				}
			}
		}
		if len(x.Comments) != len(ids) {
			t.Fatalf("from %s: comments on %d proposals, want %d: %+v", c.from, len(x.Comments), len(ids), x.Comments)
		}
	}
}

// manyNewClauses is the file of data with n new clauses appended, each a
// heading "A" and a line of text: a file of a few kilobytes once zipped.
func manyNewClauses(t *testing.T, data []byte, n int) *wordml.File {
	t.Helper()
	f, _, err := ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		f.Paragraphs = append(f.Paragraphs,
			wordml.Para{Style: "heading 2", Outline: 2, Accepted: "A", Segments: []wordml.Segment{{Text: "A"}}},
			wordml.Para{Accepted: "x", Segments: []wordml.Segment{{Text: "x"}}})
	}
	return f
}

// TestDocxImportClauseLimit: a file of more clauses than CLI.md's 10,000
// is refused as too large, and one at the limit is read in good time (new
// clauses of one heading took time quadratic in their number: 54 s for
// 20,000).
func TestDocxImportClauseLimit(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	_, err := ss.planFile(t, manyNewClauses(t, data, MaxDocxClauses), d, "UA", false)
	if !errors.Is(err, wordml.ErrTooLarge) || !strings.Contains(err.Error(), "10000 clauses") {
		t.Errorf("a file of more than %d clauses: %v", MaxDocxClauses, err)
	}
	start := time.Now()
	plan, err := ss.planFile(t, manyNewClauses(t, data, MaxDocxClauses-len(d.Clauses)), d, "UA", false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Proposals); n != MaxDocxClauses-len(d.Clauses) {
		t.Errorf("%d proposals", n)
	}
	if last := plan.Proposals[len(plan.Proposals)-1]; last.Clause != fmt.Sprintf("a-%d", MaxDocxClauses-len(d.Clauses)) {
		t.Errorf("the last new clause: %s after %s", last.Clause, last.After)
	}
	t.Logf("%d new clauses planned in %v", len(plan.Proposals), time.Since(start).Round(time.Millisecond))
}

// TestDocxImportJoinedParagraphs: paragraphs whose marks were deleted
// join the next, in time linear in their number (the text carried over
// was copied again at each: 36 s for 20,000 paragraphs of 1,000 bytes).
func TestDocxImportJoinedParagraphs(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	f, _, err := ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("y", 999) + " "
	const n = 20_000
	mark := wordml.TrackedChange{Kind: "del", Author: "x", Date: "2020-01-01T00:00:00Z"}
	for i := range n {
		f.Paragraphs = append(f.Paragraphs, wordml.Para{Accepted: line, Original: line, Segments: []wordml.Segment{{Text: line}},
			MarkDeleted: i < n-1, Changes: []wordml.TrackedChange{mark}})
	}
	var plan DocxImport
	allocated := bytesAllocated(func() { plan, err = ss.planFile(t, f, d, "UA", false) })
	if err != nil {
		t.Fatal(err)
	}
	// Linear: a few copies of the 20 MB of text. Copying the text carried
	// at each paragraph allocated some 200 GB.
	if text := int64(n * len(line)); allocated > 20*text {
		t.Errorf("%d joined paragraphs (%d bytes) allocated %d bytes to plan", n, text, allocated)
	}
	// The last clause (with no agreed text) takes the paragraphs after it
	// as its text, run on into one line.
	var got string
	for _, p := range plan.Proposals {
		if p.Clause == "monitoring" {
			got = p.Text
		}
	}
	if want := strings.TrimSpace(strings.Repeat(line, n)); got != want {
		t.Errorf("the joined text: %d bytes, want %d (%+v)", len(got), len(want), plan.Skipped)
	}
}

// TestDocxImportManyAuthors: the authors of a clause's tracked changes are
// gathered in time linear in their number (each was looked for among all
// before: 40 s for 200,000 authors).
func TestDocxImportManyAuthors(t *testing.T) {
	ss := docxSession(t)
	d, data := ss.docx(t)
	f, _, err := ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	p := wordml.Para{Accepted: "More.", Original: "", Segments: []wordml.Segment{{Text: "More."}}}
	for i := range n {
		p.Changes = append(p.Changes, wordml.TrackedChange{Kind: "ins", Author: fmt.Sprintf("a%d", i%(n/2))})
	}
	f.Paragraphs = append(f.Paragraphs, p)
	start := time.Now()
	plan, err := ss.planFile(t, f, d, "UA", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tracked changes planned in %v", n, time.Since(start).Round(time.Millisecond))
	if len(plan.Proposals) != 1 || len(plan.Proposals[0].TrackedBy) != n/2 || plan.Proposals[0].TrackedBy[1] != "a1" {
		t.Errorf("%d proposals, tracked by %d", len(plan.Proposals), len(plan.Proposals[0].TrackedBy))
	}
}

// bytesAllocated returns the bytes the process allocated while f ran: a
// measure of copying that, unlike time, does not depend on the machine's load.
func bytesAllocated(f func()) int64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}
