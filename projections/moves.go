package projections

import (
	"fmt"
	"slices"

	"github.com/treaty-engine/treaty/domain"
)

// Placement is where a proposal puts its clause: after another clause, or
// first. MovesFrom and MovesTo are the clause's number in the draft now and
// the one it takes when the proposal is adopted, for a proposal whose
// adoption places a clause already in the draft (0 otherwise: a new clause
// took its place when it was tabled).
type Placement struct {
	After     string `json:"after,omitempty"`
	First     bool   `json:"first,omitempty"`
	MovesFrom int    `json:"moves_from,omitempty"`
	MovesTo   int    `json:"moves_to,omitempty"`
}

// placementOf says where open proposal p puts its clause in state s.
func placementOf(s *domain.State, p *domain.Proposal) Placement {
	pl := Placement{After: p.After, First: p.First}
	if p.Placed || p.Status != domain.StatusOpen || p.After == "" && !p.First {
		return pl
	}
	pl.MovesFrom, pl.MovesTo = draftNumber(s, s.Order, p.Clause), draftNumber(s, placed(s.Order, p.Clause, p.After, p.First), p.Clause)
	return pl
}

// placed returns order with clause moved as domain's placement moves it on
// adoption: after the clause named (first when that clause is gone), or
// first.
func placed(order []string, clause, after string, first bool) []string {
	out := slices.Clone(order)
	if i := slices.Index(out, clause); i >= 0 {
		out = slices.Delete(out, i, i+1)
	}
	if first {
		return slices.Insert(out, 0, clause)
	}
	i := slices.Index(out, after)
	return slices.Insert(out, i+1, clause)
}

// draftNumber is clause's number in the draft whose clauses stand in
// order: the clauses listed in the draft count.
func draftNumber(s *domain.State, order []string, clause string) int {
	n := 0
	for _, id := range order {
		if id == clause || s.InDraft(id) {
			n++
		}
		if id == clause {
			return n
		}
	}
	return 0
}

// Words says, for people, what a proposal does to its clause's place:
// "moves the clause after monitoring (from 9 to 8)"; empty when it
// places nothing on adoption.
func (pl Placement) Words() string {
	if pl.MovesTo == 0 {
		return ""
	}
	if pl.MovesFrom == pl.MovesTo {
		return fmt.Sprintf("places the clause %s, where it stands (%d)", pl.where(), pl.MovesTo)
	}
	return fmt.Sprintf("moves the clause %s (from %d to %d)", pl.where(), pl.MovesFrom, pl.MovesTo)
}

// where says where the proposal puts its clause: "after ID" or "first".
func (pl Placement) where() string {
	if pl.First {
		return "first"
	}
	if pl.After == "" {
		return "where it stands"
	}
	return "after " + pl.After
}

// short is the move in a table column: "after monitoring (9→8)", or "-".
func (pl Placement) short() string {
	if pl.MovesTo == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d→%d)", pl.where(), pl.MovesFrom, pl.MovesTo)
}
