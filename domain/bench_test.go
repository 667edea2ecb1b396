package domain

import (
	"fmt"
	"testing"
)

// linkedChain builds a negotiation with n proposals, each accepted by UA
// and EU, and by US subject to the next: US's acceptance of the last adopts
// all n in one append.
func linkedChain(tb testing.TB, n int) (*State, string) {
	s := &State{}
	do := func(c Command) {
		evs, err := Decide(s, c)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range evs {
			if err := s.Evolve(e); err != nil {
				tb.Fatal(err)
			}
		}
	}
	do(OpenTreaty{Treaty: "t", Title: "T", Parties: []Party{{Code: "UA", Role: RoleParty}, {Code: "US", Role: RoleParty}, {Code: "EU", Role: RoleParty}}})
	id := func(i int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", i) }
	for i := range n {
		do(Table{Proposal: id(i), Clause: fmt.Sprintf("c-%d", i), Party: "UA", Text: "Text."})
		do(Accept{Proposal: id(i), Party: "EU"})
	}
	for i := range n - 1 {
		do(Accept{Proposal: id(i), Party: "US", SubjectTo: []string{id(i + 1)}})
	}
	return s, id(n - 1)
}

// BenchmarkCascade: the acceptance that completes a chain of 50 linked
// proposals, decided and folded: 51 events, 50 adoptions.
func BenchmarkCascade(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, last := linkedChain(b, 50)
		b.StartTimer()
		evs, err := Decide(s, Accept{Proposal: last, Party: "US"})
		if err != nil || len(evs) != 51 {
			b.Fatalf("%d events, %v", len(evs), err)
		}
		for _, e := range evs {
			if err := s.Evolve(e); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAcceptAmongOpen: an acceptance (decided and folded) in a state
// with 2,000 open proposals, none linked: what every acceptance pays for the
// linkage rules.
func BenchmarkAcceptAmongOpen(b *testing.B) {
	s := &State{}
	do := func(c Command) {
		evs, err := Decide(s, c)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range evs {
			if err := s.Evolve(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	do(OpenTreaty{Treaty: "t", Title: "T", Parties: []Party{{Code: "UA", Role: RoleParty}, {Code: "US", Role: RoleParty}, {Code: "EU", Role: RoleParty}}})
	for i := range 2000 {
		do(Table{Proposal: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), Clause: fmt.Sprintf("c-%d", i), Party: "UA", Text: "Text."})
	}
	i := 0
	for b.Loop() {
		// EU accepts each proposal in turn, then objects to each in turn:
		// nothing is ever adopted, as US never accepts.
		p := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i%2000)
		if i/2000%2 == 0 {
			do(Accept{Proposal: p, Party: "EU"})
		} else {
			do(Object{Proposal: p, Party: "EU"})
		}
		i++
	}
}
