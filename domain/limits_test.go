package domain

import (
	"strings"
	"testing"
)

// A client may lower the limit on a clause text, and raise it up to
// MaxText, never past it: Decide refuses a longer text whatever the client
// asks, and Evolve refuses it in a stored event, so a writer that skips
// Decide cannot store it either.
func TestMaxTextIsTheRules(t *testing.T) {
	n := newNegotiation(t)
	long := strings.Repeat("x", MaxText+1)
	n.refuse(Table{Proposal: "p-x", Clause: "c", Party: "UA", Text: long, MaxText: 4 * MaxText}, EINVALID,
		"text of clause c is 8388609 bytes; the rules accept at most 8388608 bytes (8 MiB) in a clause")
	n.table("UA", "c", strings.Repeat("x", MaxText), func(c *Table) { c.MaxText = 4 * MaxText })

	var s State
	if err := s.Evolve(TreatyOpened{Treaty: "t", Title: "T", Parties: []Party{{Code: "A", Role: RoleParty}, {Code: "B", Role: RoleParty}}}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, &s)
	err := s.Evolve(ProposalTabled{Proposal: "p1", Clause: "c", Party: "A", Action: ActionInsert, Text: long})
	if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "the rules accept at most 8388608 bytes") {
		t.Fatalf("Evolve of a text past MaxText: %v", err)
	}
	if after := dump(t, &s); after != before {
		t.Fatal("the refused event changed the state")
	}
}
