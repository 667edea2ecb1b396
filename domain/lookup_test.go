package domain

import (
	"strings"
	"testing"
)

// A log written elsewhere (an import) may hold upper-case proposal IDs:
// slugs allow them. They can be named exactly, and by a prefix in any case;
// an exact match wins over a prefix that other IDs share.
func TestUpperCaseProposalIDs(t *testing.T) {
	var s State
	for _, e := range []Event{
		TreatyOpened{Treaty: "t", Title: "T", Parties: []Party{{Code: "A", Role: RoleParty}, {Code: "B", Role: RoleParty}}},
		ProposalTabled{Proposal: "ABCD1234-OPEN", Clause: "one", Party: "A", Action: ActionInsert, Text: "One."},
		ProposalTabled{Proposal: "EF01-CLOSED", Clause: "two", Party: "A", Action: ActionInsert, Text: "Two."},
		ProposalAccepted{Proposal: "EF01-CLOSED", Party: "B"},
		ProposalAdopted{Proposal: "EF01-CLOSED", Clause: "two", Revision: 1},
		ProposalTabled{Proposal: "Mixed-Case-1", Clause: "three", Party: "A", Action: ActionInsert, Text: "Three."},
		ProposalWithdrawn{Proposal: "Mixed-Case-1", Party: "A"},
		ProposalTabled{Proposal: "cafe", Clause: "four", Party: "A", Action: ActionInsert, Text: "Four."},
		ProposalTabled{Proposal: "CAFE-2", Clause: "five", Party: "A", Action: ActionInsert, Text: "Five."},
	} {
		if err := s.Evolve(e); err != nil {
			t.Fatalf("Evolve(%#v): %v", e, err)
		}
	}
	for _, tt := range []struct{ ref, want string }{
		{"ABCD1234-OPEN", "ABCD1234-OPEN"},
		{"abcd1234-open", "ABCD1234-OPEN"},
		{"ABCD", "ABCD1234-OPEN"},
		{"abcd", "ABCD1234-OPEN"},
		{"aBcD12", "ABCD1234-OPEN"},
		{"EF01-CLOSED", "EF01-CLOSED"},
		{"ef01", "EF01-CLOSED"},
		{"EF01", "EF01-CLOSED"},
		{"Mixed-Case-1", "Mixed-Case-1"},
		{"Mixe", "Mixed-Case-1"},
		// "cafe" is an ID and a prefix of another: the exact ID wins.
		{"cafe", "cafe"},
		{"CAFE-2", "CAFE-2"},
		{"cafe-", "CAFE-2"},
	} {
		p, err := s.FindProposal(tt.ref)
		if err != nil || p.Proposal != tt.want {
			t.Errorf("FindProposal(%q) = %v, %v; want %s", tt.ref, p, err, tt.want)
		}
	}
	if _, err := s.FindProposal("CAFE"); !strings.Contains(errString(err), "ambiguous: it matches CAFE-2, cafe") {
		t.Errorf("FindProposal(CAFE), which is no ID and a prefix of two: %v", err)
	}
	if _, err := s.FindProposal("ABCE"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("FindProposal(ABCE) = %v, want not found", err)
	}

	// Acts on open proposals find them the same way, and the act's
	// events carry the ID as stored.
	for _, ref := range []string{"ABCD1234-OPEN", "abcd", "ABCD"} {
		p, err := s.FindOpenProposal(ref)
		if err != nil || p.Proposal != "ABCD1234-OPEN" {
			t.Fatalf("FindOpenProposal(%q) = %v, %v", ref, p, err)
		}
	}
	if p, err := s.FindOpenProposal("cafe"); err != nil || p.Proposal != "cafe" {
		t.Fatalf("FindOpenProposal(cafe) = %v, %v", p, err)
	}
	p, err := s.FindOpenProposal("abcd")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := Decide(&s, Accept{Proposal: p.Proposal, Party: "B"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if err := s.Evolve(e); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, _ := s.LookupProposal("ABCD1234-OPEN"); got.Status != StatusAdopted {
		t.Fatalf("after B accepted by a lower-case prefix, the proposal is %s", got.Status)
	}
	evs, err = Decide(&s, Withdraw{Proposal: mustFindOpen(t, &s, "cafe-2").Proposal, Party: "A"})
	if err != nil || evs[0].(ProposalWithdrawn).Proposal != "CAFE-2" {
		t.Fatalf("withdrawal by a lower-case prefix: %v, %v", evs, err)
	}
}

func mustFindOpen(t *testing.T, s *State, ref string) *Proposal {
	t.Helper()
	p, err := s.FindOpenProposal(ref)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
