package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/parallel"
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
	// Concluded says when the whole text was agreed (nil until then:
	// nothing is agreed until everything is agreed); InitialledBy,
	// Reservations and Declarations what the parties added to it.
	Concluded    *Concluded        `json:"concluded"`
	InitialledBy []string          `json:"initialled_by"`
	Reservations []ReservationView `json:"reservations"`
	Declarations []DeclarationView `json:"declarations"`
}

// Concluded is when the text was concluded: the event, its time, and the
// head the parties initial.
type Concluded struct {
	Event int       `json:"event"`
	Time  time.Time `json:"time"`
	Head  string    `json:"head"`
}

// ReservationView is a party's reservation to a clause.
type ReservationView struct {
	Party  string `json:"party"`
	Clause string `json:"clause"`
	Text   string `json:"text"`
}

// DeclarationView is a party's declaration.
type DeclarationView struct {
	Party string `json:"party"`
	Text  string `json:"text"`
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
	// proposal, "agreed-ad-ref" when its agreed text awaits a capital's
	// confirmation (AdRef names whose), else "open".
	Status        string         `json:"status"`
	OpenProposals []OpenProposal `json:"open_proposals"`
	AdRef         []string       `json:"ad_ref,omitempty"`
}

// Clause statuses of a DraftClause.
const (
	StatusAgreed      = "agreed"
	StatusAgreedAdRef = "agreed-ad-ref"
	StatusOpen        = "open"
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
	// Conditional lists the acceptances subject to other proposals;
	// AdReferendum the parties that accepted subject to their capital;
	// Lapsed the conditional acceptances that lapsed, with why.
	Conditional  []Condition `json:"conditional"`
	AdReferendum []string    `json:"ad_referendum,omitempty"`
	Lapsed       []Lapse     `json:"lapsed,omitempty"`
	// Option numbers the proposals on one clause (1, 2, …, in the order
	// tabled) when there is more than one: the options of one bracket.
	Option int `json:"option,omitempty"`
	// Version counts the proposal's versions (see domain.ProposalRevised);
	// Rebases names the stale proposal it carried over; Comments counts
	// the comments under it.
	Version  int    `json:"version"`
	Rebases  string `json:"rebases,omitempty"`
	Comments int    `json:"comments,omitempty"`
	// Revised is the event of its latest revision (absent: never
	// revised).
	Revised int `json:"revised,omitempty"`
}

// Condition is a party's acceptance subject to other proposals: SubjectTo
// their IDs, Clauses the clause of each, Adopted which are adopted already.
type Condition struct {
	Party     string   `json:"party"`
	SubjectTo []string `json:"subject_to"`
	Clauses   []string `json:"clauses"`
	Adopted   []bool   `json:"adopted"`
}

// Lapse is a conditional acceptance that lapsed: the party is awaited
// again.
type Lapse struct {
	Party  string `json:"party"`
	Reason string `json:"reason"`
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

// Draft is BuildDraft with what the state does not hold read from the log:
// the time the text was concluded.
func (r *Reader) Draft(ctx context.Context, m Moment, opts DraftOptions) (Draft, error) {
	d := BuildDraft(m, opts)
	if c := d.Concluded; c != nil {
		if c.Event == m.Point.Event {
			c.Time = m.Point.Time
		} else {
			t, err := r.eventTime(ctx, c.Event)
			if err != nil {
				return Draft{}, err
			}
			c.Time = t
		}
	}
	return d, nil
}

// BuildDraft projects the state at a moment into its draft; Reader.Draft
// completes it.
func BuildDraft(m Moment, opts DraftOptions) Draft {
	agreedOnly := opts.AgreedOnly
	s := m.State
	d := Draft{Treaty: s.Treaty, Title: s.Title, AsOf: m.Point, Parties: s.Parties, Clauses: []DraftClause{},
		InitialledBy: []string{}, Reservations: []ReservationView{}, Declarations: []DeclarationView{}}
	if d.Parties == nil {
		d.Parties = []domain.Party{}
	}
	if c := s.Concluded; c != nil {
		d.Concluded = &Concluded{Event: c.Event, Head: c.Head}
		for _, i := range s.Initials {
			d.InitialledBy = append(d.InitialledBy, i.Party)
		}
	}
	for _, r := range s.Reservations {
		d.Reservations = append(d.Reservations, ReservationView{Party: r.Party, Clause: r.Clause, Text: r.Text})
	}
	for _, r := range s.Declarations {
		d.Declarations = append(d.Declarations, DeclarationView{Party: r.Party, Text: r.Text})
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
			numberOptions(dc.OpenProposals)
			if opts.Redlines {
				ops, ps := dc.OpenProposals, s.OpenProposals(c.ID)
				for i, p := range ps {
					redlines = append(redlines, func() { ops[i].Ops = proposalOps(p) })
				}
			}
		}
		switch {
		case !c.Agreed() || len(dc.OpenProposals) > 0:
			dc.Status = StatusOpen
		case len(c.AdRef) > 0:
			dc.Status = StatusAgreedAdRef
		}
		if c.Agreed() {
			dc.AdRef = c.AdRef
		}
		d.Clauses = append(d.Clauses, dc)
	}
	parallel.Each(len(redlines), func(i int) { redlines[i]() })
	return d
}

// proposalOps is a proposal's redline against the text it was drafted
// against.
func proposalOps(p *domain.Proposal) []redline.Op { return proposalOpsBy(p, words) }

// proposalOpsBy is proposalOps, the redline worked out by w.
func proposalOpsBy(p *domain.Proposal, w func(before, after string) []redline.Op) []redline.Op {
	after := p.Text
	if p.Action == domain.ActionDelete {
		after = ""
	}
	return w(p.BaseText, after)
}

func openProposal(s *domain.State, p *domain.Proposal) OpenProposal {
	op := OpenProposal{
		ID: p.Proposal, Party: p.Party, Action: p.Action, Text: p.Text, Heading: p.Heading,
		AcceptedBy: nonNil(s.AcceptedBy(p)), ObjectedBy: nonNil(s.ObjectedBy(p)), AdReferendum: s.AdReferendum(p),
		Stale: s.Stale(p), Note: p.Note, Tabled: p.Tabled, Round: p.Round,
		Version: max(p.Version, 1), Rebases: p.Rebases, Comments: len(p.Comments), Conditional: []Condition{},
		Revised: p.Revised, Placement: placementOf(s, p),
	}
	for _, c := range s.Conditional(p) {
		v := Condition{Party: c.Party, SubjectTo: c.SubjectTo}
		for _, q := range c.SubjectTo {
			clause, adopted := "", false
			if qp, ok, err := s.LookupProposal(q); err == nil && ok {
				clause, adopted = qp.Clause, qp.Status == domain.StatusAdopted
			}
			v.Clauses, v.Adopted = append(v.Clauses, clause), append(v.Adopted, adopted)
		}
		op.Conditional = append(op.Conditional, v)
	}
	for _, party := range s.LapsedFor(p) {
		op.Lapsed = append(op.Lapsed, Lapse{Party: party, Reason: p.Positions.Of(party).Reason})
	}
	return op
}

// numberOptions numbers the open proposals of one clause, in the order
// tabled, when there are two or more: the options of one bracket.
func numberOptions(open []OpenProposal) {
	if len(open) < 2 {
		return
	}
	for i := range open {
		open[i].Option = i + 1
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Unconcluded is what every draft says until the whole text is concluded.
const Unconcluded = "Nothing is agreed until everything is agreed."

// Standing says where the whole text stands, a line each: until it is
// concluded, that nothing is agreed until everything is; after, when it was
// concluded and who has initialled it.
func (d Draft) Standing() []string {
	c := d.Concluded
	if c == nil {
		return []string{Unconcluded}
	}
	line := fmt.Sprintf("Concluded: the whole text was agreed at event %d", c.Event)
	if !c.Time.IsZero() {
		line += ", " + FormatTime(c.Time)
	}
	lines := []string{line + "; the text initialled is head " + domain.ShortHash(c.Head) + "."}
	var awaiting []string
	for _, p := range d.Parties {
		if p.Role == domain.RoleParty && !slices.Contains(d.InitialledBy, p.Code) {
			awaiting = append(awaiting, p.Code)
		}
	}
	switch {
	case len(d.InitialledBy) == 0:
		lines = append(lines, "Not yet initialled.")
	case len(awaiting) == 0:
		lines = append(lines, "Initialled by "+strings.Join(d.InitialledBy, ", ")+": every party.")
	default:
		lines = append(lines, "Initialled by "+strings.Join(d.InitialledBy, ", ")+"; awaiting "+strings.Join(awaiting, ", ")+".")
	}
	return lines
}

// StatusLabel is the clause's status as the draft says it: "agreed",
// "agreed ad ref (UA)", or "open" (saying so when the text it has is agreed
// ad referendum).
func (c DraftClause) StatusLabel() string {
	switch {
	case c.Status == StatusAgreedAdRef:
		return "agreed ad ref (" + strings.Join(c.AdRef, ", ") + ")"
	case len(c.AdRef) > 0:
		return "open; its text agreed ad ref (" + strings.Join(c.AdRef, ", ") + ")"
	}
	return c.Status
}

// Reservations returns the reservations to clause id.
func (d Draft) ReservationsTo(id string) []ReservationView {
	var out []ReservationView
	for _, r := range d.Reservations {
		if r.Clause == id {
			out = append(out, r)
		}
	}
	return out
}

// Label is how the bracket of an open proposal names it: its party, or
// among the options of one bracket "Option 2 (UA)"; ", stale" when it is.
func (p OpenProposal) Label() string {
	who := p.Party
	if p.Stale {
		who += ", stale"
	}
	if p.Option > 0 {
		return fmt.Sprintf("Option %d (%s)", p.Option, who)
	}
	return who
}

// Facts says where an open proposal stands, a phrase each: its ID and
// action, its version, who accepts it and how, who objects, the move its
// adoption makes, whose acceptance lapsed, whether it is stale. Every
// format shows these.
func (p OpenProposal) Facts() []string {
	facts := []string{domain.Short(p.ID), string(p.Action)}
	if p.Version > 1 {
		facts = append(facts, fmt.Sprintf("version %d", p.Version))
	}
	if p.Rebases != "" {
		facts = append(facts, "rebases "+domain.Short(p.Rebases))
	}
	if len(p.AcceptedBy) > 0 {
		var who []string
		for _, party := range p.AcceptedBy {
			if slices.Contains(p.AdReferendum, party) {
				party += " ad ref"
			}
			who = append(who, party)
		}
		facts = append(facts, "accepted by "+strings.Join(who, ", "))
	}
	for _, c := range p.Conditional {
		var on []string
		for i, q := range c.SubjectTo {
			s := domain.Short(q)
			if c.Clauses[i] != "" {
				s += " (" + c.Clauses[i] + ")"
			}
			if c.Adopted[i] {
				s += ", adopted"
			}
			on = append(on, s)
		}
		verb := " accepts subject to "
		if slices.Contains(p.AdReferendum, c.Party) {
			verb = " accepts ad ref subject to "
		}
		facts = append(facts, c.Party+verb+strings.Join(on, " and "))
	}
	if len(p.ObjectedBy) > 0 {
		facts = append(facts, "objected to by "+strings.Join(p.ObjectedBy, ", "))
	}
	if m := p.Placement.Words(); m != "" {
		facts = append(facts, m)
	}
	for _, l := range p.Lapsed {
		facts = append(facts, l.Party+" is awaited again: "+l.Reason)
	}
	if p.Comments > 0 {
		facts = append(facts, plural(p.Comments, "comment"))
	}
	if p.Stale {
		facts = append(facts, "stale: another proposal was adopted since; rebase it, withdraw it or table a new one")
	}
	return facts
}

// plural counts things in words: "1 comment", "3 comments".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
