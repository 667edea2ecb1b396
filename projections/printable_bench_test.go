package projections

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/projections/redline"
)

// benchDraft is a draft of 200 clauses of a few lines each, one open
// proposal on every other: the size of `simulate --clauses 200`.
func benchDraft(b *testing.B) Draft {
	ss := newSession(b)
	ss.openRound()
	text := strings.Repeat("The Parties shall consult within 24 hours and decide on assistance.\n", 4)
	for i := range 200 {
		ss.agree(fmt.Sprintf("c-%d", i), text)
		if i%2 == 0 {
			ss.table("US", fmt.Sprintf("c-%d", i), text+"Amended.")
		}
	}
	m, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return BuildDraft(m, DraftOptions{})
}

// BenchmarkWriteDraftText renders a 200-clause draft as text, as `treaty
// draft` does after reading it.
func BenchmarkWriteDraftText(b *testing.B) {
	d := benchDraft(b)
	for b.Loop() {
		if err := WriteDraftText(io.Discard, d, Style{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrintableDraft: making a clean 200-clause draft visible, which
// every renderer does first.
func BenchmarkPrintableDraft(b *testing.B) {
	d := benchDraft(b)
	for b.Loop() {
		_ = Printable(d)
	}
}

// benchDiff is a compare document of 200 clauses of a few lines, each
// amended word by word, with an open proposal on every other: what a
// compare of two distant rounds makes visible before rendering.
func benchDiff() Diff {
	line := "The Parties shall consult within 24 hours and decide on assistance to the requesting Party."
	d := Diff{Title: "Berlin", Treaty: "berlin"}
	for i := range 200 {
		before := strings.Repeat(line+"\n", 4)
		after := strings.ReplaceAll(before, "24 hours", fmt.Sprintf("%d days", i%9+2))
		after = strings.ReplaceAll(after, "assistance", "assistance and relief")
		c := ClauseChange{ID: fmt.Sprintf("c-%d", i), Change: "modified", Before: before, After: after, Ops: redline.Words(before, after),
			Adopted: []Attribution{{ID: "p-1", Party: "US", Event: 12}}}
		if i%2 == 0 {
			text := after + "Amended."
			c.OpenProposals = []OpenProposal{{ID: "p-2", Party: "EU", Text: text, Ops: redline.Words(after, text), AcceptedBy: []string{"UA"}}}
		}
		d.Clauses = append(d.Clauses, c)
	}
	return d
}

// BenchmarkPrintableDiff: making that compare document visible, on one
// core.
func BenchmarkPrintableDiff(b *testing.B) {
	d := benchDiff()
	for b.Loop() {
		_ = Printable(d)
	}
}

// BenchmarkWritePositionsText renders the positions of 200 clauses of a
// few lines, each with an open amendment of a few words accepted by one
// party, as `treaty positions` does after reading them.
func BenchmarkWritePositionsText(b *testing.B) {
	ss := newSession(b)
	ss.openRound()
	text := strings.Repeat("The Parties shall consult within 24 hours and decide on assistance to the requesting Party.\n", 4)
	for i := range 200 {
		ss.agree(fmt.Sprintf("c-%d", i), text)
		id := ss.table("US", fmt.Sprintf("c-%d", i), strings.Replace(text, "24 hours", fmt.Sprintf("%d days", i%9+2), 2))
		ss.accept(id, "UA")
	}
	m, err := NewReader(ss.store, "berlin", withCheckpoints).Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	p, err := BuildPositions(m, PositionsOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchWrite(b, "proposes", func(w io.Writer) error { return WritePositionsText(w, p, Style{}) })
}

// BenchmarkWriteDiffText renders the compare document of benchDiff as
// text, as `treaty diff` does once it has worked the document out.
func BenchmarkWriteDiffText(b *testing.B) {
	d := benchDiff()
	benchWrite(b, "{+", func(w io.Writer) error { return WriteDiffText(w, d, Style{}) })
}

// benchWrite checks that write renders a document holding mark, then
// measures it writing to io.Discard, the document's size counted as the
// bytes of each operation.
func benchWrite(b *testing.B, mark string, write func(io.Writer) error) {
	b.Helper()
	var out strings.Builder
	if err := write(&out); err != nil || !strings.Contains(out.String(), mark) {
		b.Fatalf("document not rendered (%v):\n%.500s", err, out.String())
	}
	b.SetBytes(int64(out.Len()))
	for b.Loop() {
		if err := write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
