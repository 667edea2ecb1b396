package projections

import (
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// Draft is the text of a negotiation at a moment: the agreed text of each
// clause in draft order, and the open proposals on it, which a rendering shows
// in square brackets attributed to their party. Its JSON form is CLI.md's.
type Draft struct {
	Treaty  string         `json:"treaty"`
	Title   string         `json:"title"`
	AsOf    Point          `json:"as_of"`
	Parties []domain.Party `json:"parties"`
	Clauses []DraftClause  `json:"clauses"`
}

// DraftClause is one clause of a Draft.
type DraftClause struct {
	ID string `json:"id"`
	// Number counts the clauses as listed, from 1.
	Number  int    `json:"number"`
	Heading string `json:"heading"`
	// Text is the agreed text, empty when there is none.
	Text     string `json:"text"`
	Revision int    `json:"revision"`
	// Status is "agreed" when the clause has agreed text and no open
	// proposal, else "open".
	Status        string         `json:"status"`
	OpenProposals []OpenProposal `json:"open_proposals"`
}

// Clause statuses of a DraftClause.
const (
	StatusAgreed = "agreed"
	StatusOpen   = "open"
)

// OpenProposal is a proposal still on the table, as the draft shows it.
type OpenProposal struct {
	ID     string        `json:"id"`
	Party  string        `json:"party"`
	Action domain.Action `json:"action"`
	Text   string        `json:"text"`
	// Heading is the proposed heading, when the proposal has one.
	Heading    *string  `json:"heading,omitempty"`
	AcceptedBy []string `json:"accepted_by"`
	ObjectedBy []string `json:"objected_by"`
	// Stale: another proposal on the clause was adopted after this one was
	// drafted; it can no longer be accepted.
	Stale bool   `json:"stale"`
	Note  string `json:"note,omitempty"`
	// Tabled is the number of the event that tabled it; Round the round.
	Tabled int `json:"tabled"`
	Round  int `json:"round"`
	// Ops, when the draft was built with redlines, is the proposal's
	// redline against the text it was drafted against: its base revision,
	// which for a stale proposal is not the clause's text now.
	Ops []redline.Op `json:"ops,omitempty"`
	// Placement: where the proposal puts the clause (after, first), and
	// the move its adoption makes (moves_from, moves_to).
	Placement
}

// DraftOptions say what a draft holds.
type DraftOptions struct {
	// AgreedOnly lists only the clauses with agreed text, without
	// proposals.
	AgreedOnly bool
	// Redlines gives each open proposal its Ops, for the formats that show
	// them.
	Redlines bool
}

// BuildDraft projects the state at a moment into its draft.
func BuildDraft(m Moment, opts DraftOptions) Draft {
	agreedOnly := opts.AgreedOnly
	s := m.State
	d := Draft{Treaty: s.Treaty, Title: s.Title, AsOf: m.Point, Parties: s.Parties, Clauses: []DraftClause{}}
	if d.Parties == nil {
		d.Parties = []domain.Party{}
	}
	var redlines []func()
	for _, c := range s.Draft() {
		if agreedOnly && !c.Agreed() {
			continue
		}
		dc := DraftClause{ID: c.ID, Number: len(d.Clauses) + 1, Heading: c.Heading, Text: c.Text,
			Revision: c.Revision, Status: StatusAgreed, OpenProposals: []OpenProposal{}}
		if !agreedOnly {
			for _, p := range s.OpenProposals(c.ID) {
				dc.OpenProposals = append(dc.OpenProposals, openProposal(s, p))
			}
			if opts.Redlines {
				ops, ps := dc.OpenProposals, s.OpenProposals(c.ID)
				for i, p := range ps {
					redlines = append(redlines, func() { ops[i].Ops = proposalOps(p) })
				}
			}
		}
		if !c.Agreed() || len(dc.OpenProposals) > 0 {
			dc.Status = StatusOpen
		}
		d.Clauses = append(d.Clauses, dc)
	}
	parallel(len(redlines), func(i int) { redlines[i]() })
	return d
}

// proposalOps is a proposal's redline against the text it was drafted
// against.
func proposalOps(p *domain.Proposal) []redline.Op {
	after := p.Text
	if p.Action == domain.ActionDelete {
		after = ""
	}
	return words(p.BaseText, after)
}

func openProposal(s *domain.State, p *domain.Proposal) OpenProposal {
	return OpenProposal{
		ID: p.Proposal, Party: p.Party, Action: p.Action, Text: p.Text, Heading: p.Heading,
		AcceptedBy: nonNil(s.AcceptedBy(p)), ObjectedBy: nonNil(s.ObjectedBy(p)),
		Stale: s.Stale(p), Note: p.Note, Tabled: p.Tabled, Round: p.Round,
		Placement: placementOf(s, p),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
