package web

import (
	"slices"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections"
)

// The per-party filter of the HTML pages: what one participant proposed,
// adopted and said. (The JSON of a page is the command line's, whole.)

// filterDraft keeps, in every clause, only party's open proposals.
func filterDraft(d projections.Draft, party string) projections.Draft {
	if party == "" {
		return d
	}
	d.Clauses = slices.Clone(d.Clauses)
	for i := range d.Clauses {
		d.Clauses[i].OpenProposals = onlyBy(d.Clauses[i].OpenProposals, party)
	}
	return d
}

// filterDiff keeps the clauses party changed (an adopted proposal of its)
// or has a proposal open on, with only its open proposals.
func filterDiff(d projections.Diff, party string) projections.Diff {
	if party == "" {
		return d
	}
	var kept []projections.ClauseChange
	for _, c := range d.Clauses {
		c.OpenProposals = onlyBy(c.OpenProposals, party)
		if c.AdoptedBy(party) > 0 || len(c.OpenProposals) > 0 {
			kept = append(kept, c)
		}
	}
	d.Clauses = kept
	return d
}

func onlyBy(ps []projections.OpenProposal, party string) []projections.OpenProposal {
	var out []projections.OpenProposal
	for _, p := range ps {
		if p.Party == party {
			out = append(out, p)
		}
	}
	return out
}

// filterPositions keeps party's column, in the rows where it holds
// something.
func filterPositions(p projections.Positions, party string) projections.Positions {
	if party == "" {
		return p
	}
	p.Participants = slices.DeleteFunc(slices.Clone(p.Participants), func(x domain.Party) bool { return x.Code != party })
	var rows []projections.PositionsClause
	for _, c := range p.Clauses {
		if col := c.Columns[party]; col != nil && len(col.Proposals)+len(col.Positions) > 0 {
			rows = append(rows, c)
		}
	}
	p.Clauses = rows
	return p
}
