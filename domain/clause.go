package domain

import (
	"cmp"
	"slices"
)

// Clause is one clause of the draft.
type Clause struct {
	ID      string
	Heading string
	// Text is the agreed text; empty when the clause was never adopted or
	// was deleted.
	Text string
	// Revision counts the proposals adopted on this clause; 0 means none
	// ever was. A proposal drafted against an older revision is stale.
	Revision int
	Deleted  bool
	// AdRef lists the parties whose acceptance of the proposal that last
	// changed the clause (AdRefProposal, at revision AdRefRevision) was
	// ad referendum and is not yet confirmed by their capital; Restore is
	// what the clause read before, which a capital's decline restores.
	AdRef         []string
	AdRefProposal string
	AdRefRevision int
	Restore       *Restored
	// Adoptions counts the proposals on the clause adopted so far, by
	// party (nil before the first); Recent lists the last RecentAdoptions
	// of them, oldest first. Between two moments, a clause's adoptions
	// are the difference of the counts, and the last few of them those of
	// Recent at the later moment adopted after the earlier: no closed
	// proposal need be read to say who changed a clause how often.
	Adoptions map[string]int
	Recent    []Adoption
}

// RecentAdoptions is how many of a clause's last adoptions Clause.Recent
// keeps.
const RecentAdoptions = 5

// Adoption is one adoption of a proposal on a clause: the proposal, its
// party and the event that adopted it.
type Adoption struct {
	Proposal, Party string
	Event           int
}

// adopted records the adoption of p, at event n, among c's adoptions.
func (c *Clause) adopted(p *Proposal, n int) {
	if c.Adoptions == nil {
		c.Adoptions = map[string]int{}
	}
	c.Adoptions[p.Party]++
	if len(c.Recent) == RecentAdoptions {
		c.Recent = append(c.Recent[:0:0], c.Recent[1:]...)
	}
	c.Recent = append(c.Recent, Adoption{Proposal: p.Proposal, Party: p.Party, Event: n})
}

// Restored is a clause's text as it stood before an adoption.
type Restored struct {
	Text    string
	Heading string
	Deleted bool
}

// Agreed reports whether the clause has agreed text.
func (c *Clause) Agreed() bool { return c.Revision > 0 && !c.Deleted }

// Stale reports whether an open proposal was drafted against a revision of
// its clause that an adopted proposal has since replaced.
func (s *State) Stale(p *Proposal) bool {
	c := s.Clauses[p.Clause]
	return p.Status == StatusOpen && c != nil && p.BaseRevision < c.Revision
}

// index returns the open proposals of each clause, in tabling order,
// building the index from Proposals on first use.
func (s *State) index() map[string][]string {
	if s.byClause != nil {
		return s.byClause
	}
	// Built by every command that acts on a negotiation with many open
	// proposals: sized at once, and sorted without reflection.
	s.byClause = make(map[string][]string, len(s.Clauses))
	open := make([]*Proposal, 0, len(s.Proposals))
	for _, p := range s.Proposals {
		if p.Status == StatusOpen {
			open = append(open, p)
		}
	}
	slices.SortFunc(open, func(a, b *Proposal) int { return cmp.Compare(a.Tabled, b.Tabled) })
	for _, p := range open {
		s.byClause[p.Clause] = append(s.byClause[p.Clause], p.Proposal)
	}
	return s.byClause
}

// OpenProposals returns the open proposals on a clause, stale ones included,
// in the order they were tabled.
func (s *State) OpenProposals(clause string) []*Proposal {
	ids := s.index()[clause]
	ps := make([]*Proposal, len(ids))
	for i, id := range ids {
		ps[i] = s.Proposals[id]
	}
	return ps
}

// InDraft reports whether a clause is listed in the draft: it has agreed text
// or open proposals.
func (s *State) InDraft(clause string) bool {
	c := s.Clauses[clause]
	return c != nil && (c.Agreed() || len(s.index()[clause]) > 0)
}

// Draft returns the clauses listed in the draft, in draft order.
func (s *State) Draft() []*Clause {
	var cs []*Clause
	for _, id := range s.Order {
		if s.InDraft(id) {
			cs = append(cs, s.Clauses[id])
		}
	}
	return cs
}

// place puts clause in the draft order: after the clause named, first, or
// (toEnd) at the end.
func (s *State) place(clause, after string, first, toEnd bool) {
	if i := slices.Index(s.Order, clause); i >= 0 {
		s.Order = slices.Delete(s.Order, i, i+1)
	}
	switch {
	case after != "":
		i := slices.Index(s.Order, after)
		s.Order = slices.Insert(s.Order, i+1, clause)
	case first:
		s.Order = slices.Insert(s.Order, 0, clause)
	case toEnd:
		s.Order = append(s.Order, clause)
	}
}

// tableAction works out what a proposal on clause does, given whether it
// deletes, and checks that it can.
func (s *State) tableAction(clause string, del bool) (Action, error) {
	c := s.Clauses[clause]
	agreed := c != nil && c.Agreed()
	switch {
	case del && !agreed:
		if s.InDraft(clause) {
			return "", Errorf(ECONFLICT, "clause %s has no agreed text to delete, only proposals; withdraw or object to those instead", clause)
		}
		return "", Errorf(ENOTFOUND, "clause %s is not in the draft, so there is nothing to delete", clause)
	case del:
		return ActionDelete, nil
	case agreed:
		return ActionAmend, nil
	}
	return ActionInsert, nil
}

// applyAdoption changes clause c as adopting p does: its revision, its text
// and heading. It is the one statement of what an adoption does to a clause.
func applyAdoption(c *Clause, p *Proposal) {
	c.Revision++
	switch p.Action {
	case ActionDelete:
		c.Text, c.Deleted = "", true
	case ActionInsert:
		// An inserted clause is whole: its heading is the proposal's.
		c.Text, c.Deleted, c.Heading = p.Text, false, ""
		if p.Heading != nil {
			c.Heading = *p.Heading
		}
	case ActionAmend:
		c.Text = p.Text
		if p.Heading != nil {
			c.Heading = *p.Heading
		}
	}
}
