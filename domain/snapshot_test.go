package domain

import (
	"reflect"
	"strings"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	n := newNegotiation(t)
	n.do(OpenRound{Party: "DE", Name: "Berlin I"})
	n.agree("a", "A.", heading("Article A"))
	n.agree("b", "B.")
	open := n.table("US", "a", "A amended.", heading(""))
	n.do(Object{Proposal: open, Party: "EU", Reason: "no"})
	n.table("EU", "a", "A by EU.")
	n.table("DE", "c", "Mediator's C.", first)
	gone := n.table("UA", "d", "D.")
	n.do(Withdraw{Proposal: gone, Party: "UA"})
	n.do(CloseRound{Party: "DE"})
	n.agree("b", "", deletion)

	data, err := n.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := got.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, &n.s) {
		t.Fatalf("snapshot round trip changed the state:\n got %+v\nwant %+v", got, n.s)
	}
	if h := got.Proposals[open].Heading; h == nil || *h != "" {
		t.Fatalf("an empty heading came back as %v", h)
	}
	// The restored state goes on folding exactly like the original.
	for _, s := range []*State{&n.s, &got} {
		for _, c := range []Command{Accept{Proposal: open, Party: "EU"}, Withdraw{Proposal: open, Party: "US"}} {
			evs, err := Decide(s, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if err := s.Evolve(e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if !reflect.DeepEqual(&got, &n.s) {
		t.Fatal("restored state diverged after more events")
	}
}

func TestSnapshotRefusals(t *testing.T) {
	var s State
	if err := s.UnmarshalBinary([]byte("not gob")); err == nil {
		t.Fatal("garbage decoded")
	}
	n := newNegotiation(t, Party{Code: "A", Role: RoleParty}, Party{Code: "B", Role: RoleParty})
	n.do(Table{Proposal: "p1", Clause: "c", Party: "A", Text: "x"})
	if err := n.s.Evolve(ProposalAccepted{Proposal: "p1", Party: "B"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.s.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "adoption") {
		t.Fatalf("snapshot of a state awaiting adoption: %v", err)
	}
}
