package projections

import (
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/projections/redline"
)

// TestWriteDiffTextLarge: a compare document too large to keep is written
// block by block, as one small enough to keep is written whole: the same
// bytes, its clauses in order between the same first and last lines.
func TestWriteDiffTextLarge(t *testing.T) {
	for _, size := range []int{1000, keepDocument} {
		d := Diff{Treaty: "berlin", Title: "Accord", Parties: nonNilParties(nil)}
		for _, id := range []string{"a", "b", "c"} {
			text := strings.Repeat(id+" word ", size/12)
			d.Clauses = append(d.Clauses, ClauseChange{ID: id, NumberBefore: 1, NumberAfter: 1, Change: ChangeModified,
				Before: text, After: text + "more", Ops: []redline.Op{{Kind: redline.Equal, Text: text}, {Kind: redline.Insert, Text: "more"}}})
		}
		var b strings.Builder
		if err := WriteDiffText(&b, d, Style{}); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		var clauses strings.Builder
		for _, c := range d.Clauses {
			clauses.WriteString(diffClauseText(c, d.Parties, Style{}))
		}
		head, rest, ok := strings.Cut(got, clauses.String())
		if !ok || !strings.HasPrefix(head, "Redline of Accord  (berlin)\n") || rest != "\nProposals: 0 tabled, 0 adopted, 0 withdrawn\n" {
			t.Fatalf("%d-byte clauses: the document is not its head, its clauses in order and its count (%d bytes; head %q, rest %q)",
				size, len(got), head, rest)
		}
	}
}
