package projections

import (
	"fmt"
	"io"
	"strings"
	"testing"
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
