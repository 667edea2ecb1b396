package projections

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// ProposalSummary is where one proposal stands.
type ProposalSummary struct {
	ID      string        `json:"id"`
	Clause  string        `json:"clause"`
	Party   string        `json:"party"`
	Action  domain.Action `json:"action"`
	Text    string        `json:"text"`
	Heading *string       `json:"heading,omitempty"`
	Note    string        `json:"note,omitempty"`
	// Status is open, stale, adopted or withdrawn.
	Status       string         `json:"status"`
	AcceptedBy   []string       `json:"accepted_by"`
	ObjectedBy   []string       `json:"objected_by"`
	Awaiting     []string       `json:"awaiting"`
	Positions    []PositionView `json:"positions"`
	BaseRevision int            `json:"base_revision"`
	// Tabled, Round: the event and round it was tabled in; Closed the
	// event that adopted or withdrew it (0 while open).
	Tabled int `json:"tabled"`
	Round  int `json:"round"`
	Closed int `json:"closed"`
	// Placement: where the proposal puts the clause, and the move its
	// adoption makes while it is open.
	Placement
}

// PositionView is a party's latest position on a proposal.
type PositionView struct {
	Party  string `json:"party"`
	Stance string `json:"stance"`
	Reason string `json:"reason,omitempty"`
	Event  int    `json:"event"`
}

// Proposal statuses as shown; "stale" is an open proposal that can no longer
// be accepted.
const (
	ProposalOpen      = "open"
	ProposalStale     = "stale"
	ProposalAdopted   = "adopted"
	ProposalWithdrawn = "withdrawn"
)

// Summarize describes where proposal p stands in state s.
func Summarize(s *domain.State, p *domain.Proposal) ProposalSummary {
	sum := ProposalSummary{ID: p.Proposal, Clause: p.Clause, Party: p.Party, Action: p.Action, Text: p.Text,
		Heading: p.Heading, Note: p.Note, Status: string(p.Status), AcceptedBy: nonNil(s.AcceptedBy(p)),
		ObjectedBy: nonNil(s.ObjectedBy(p)), Awaiting: []string{}, Positions: []PositionView{},
		BaseRevision: p.BaseRevision, Tabled: p.Tabled, Round: p.Round, Closed: p.Closed, Placement: placementOf(s, p)}
	if s.Stale(p) {
		sum.Status = ProposalStale
	} else if p.Status == domain.StatusOpen {
		sum.Awaiting = nonNil(s.Awaiting(p))
	}
	for _, party := range s.Parties {
		if pos, ok := p.Positions[party.Code]; ok {
			sum.Positions = append(sum.Positions, PositionView{Party: party.Code, Stance: string(pos.Stance), Reason: pos.Reason, Event: pos.Event})
		}
	}
	return sum
}

// Proposals lists the proposals s holds whole, in the order they were
// tabled: the open ones, and with a state that keeps closed proposals (see
// Reader.Complete) every one.
func Proposals(s *domain.State) []ProposalSummary {
	ps := make([]*domain.Proposal, 0, len(s.Proposals))
	for _, p := range s.Proposals {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Tabled < ps[j].Tabled })
	out := make([]ProposalSummary, len(ps))
	for i, p := range ps {
		out[i] = Summarize(s, p)
	}
	return out
}

// ProposalDetail is one proposal with its redline against the text it was
// drafted against.
type ProposalDetail struct {
	ProposalSummary
	// Base is the clause's text at the revision the proposal amends.
	Base string `json:"base"`
	// Ops is the redline from Base to the proposed text.
	Ops []redline.Op `json:"ops"`
	// Current is the clause's agreed text now.
	Current         string `json:"current"`
	CurrentRevision int    `json:"current_revision"`
}

// Proposal finds the proposal ref names (an ID or a unique prefix) and
// returns it with its redline.
func (r *Reader) Proposal(ctx context.Context, ref string) (ProposalDetail, error) {
	head, err := r.Head(ctx)
	if err != nil {
		return ProposalDetail{}, err
	}
	d, closed, err := proposalNow(head.State, ref)
	if err != nil || closed == nil {
		return d, err
	}
	// The state keeps only the fate of a closed proposal: read it whole
	// as it stood just before it was closed.
	then, err := r.StateAt(ctx, Ref{kind: refEvent, n: closed.Closed - 1, text: fmt.Sprintf("@%d", closed.Closed-1)}, closed.Closed-1, head.State)
	if err != nil {
		return ProposalDetail{}, err
	}
	return closedProposal(d, then.State, closed)
}

// proposalNow finds the proposal ref names in head, the negotiation now. An
// open one comes back whole; for a closed one, the detail holds only what
// is known now (the clause's current text), and closed is its record, to
// be read whole from the state just before it closed (closedProposal).
func proposalNow(head *domain.State, ref string) (d ProposalDetail, closed *domain.Proposal, err error) {
	p, err := head.FindProposal(ref)
	if err != nil {
		return ProposalDetail{}, nil, err
	}
	d = ProposalDetail{ProposalSummary: Summarize(head, p)}
	if c := head.Clauses[p.Clause]; c != nil {
		d.Current, d.CurrentRevision = c.Text, c.Revision
	}
	if p.Status != domain.StatusOpen {
		return d, p, nil
	}
	d.Base = p.BaseText
	d.Ops = proposalOps(p)
	return d, nil, nil
}

// closedProposal completes the detail of closed proposal p from then, the
// state just before the event that closed it.
func closedProposal(d ProposalDetail, then *domain.State, p *domain.Proposal) (ProposalDetail, error) {
	whole, ok := then.Proposals[p.Proposal]
	if !ok {
		return ProposalDetail{}, fmt.Errorf("proposal %s is not open just before event %d, which closed it", domain.Short(p.Proposal), p.Closed)
	}
	sum := Summarize(then, whole)
	sum.Status, sum.Closed, sum.Awaiting = string(p.Status), p.Closed, []string{}
	d.ProposalSummary = sum
	d.Base = whole.BaseText
	d.Ops = proposalOps(whole)
	return d, nil
}

// WriteProposalsText writes a table of proposals.
func WriteProposalsText(w io.Writer, ps []ProposalSummary, st Style) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROPOSAL\tCLAUSE\tACTION\tPARTY\tSTATUS\tACCEPTED\tOBJECTED\tAWAITING\tROUND\tMOVES")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", domain.Short(p.ID), p.Clause, p.Action, p.Party, p.Status,
			dash(p.AcceptedBy), dash(p.ObjectedBy), dash(p.Awaiting), roundLabel(p.Round), p.Placement.short())
	}
	return tw.Flush()
}

func dash(codes []string) string {
	if len(codes) == 0 {
		return "-"
	}
	return strings.Join(codes, ",")
}

func roundLabel(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// WriteProposalText writes one proposal and its redline for people.
func WriteProposalText(w io.Writer, d ProposalDetail, st Style) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", st.Bold("Proposal"), d.ID)
	fmt.Fprintf(&b, "%s of clause %s by %s, tabled at event %d", d.Action, d.Clause, d.Party, d.Tabled)
	if d.Round > 0 {
		fmt.Fprintf(&b, " in round %d", d.Round)
	}
	fmt.Fprintf(&b, ", against revision %d\n", d.BaseRevision)
	status := d.Status
	switch d.Status {
	case ProposalAdopted, ProposalWithdrawn:
		status += fmt.Sprintf(" at event %d", d.Closed)
	case ProposalStale:
		status += fmt.Sprintf(": the clause is at revision %d now; this proposal can no longer be accepted", d.CurrentRevision)
	}
	fmt.Fprintf(&b, "Status: %s\n", status)
	for _, pos := range d.Positions {
		line := fmt.Sprintf("  %s %s (event %d)", pos.Party, pos.Stance, pos.Event)
		if pos.Reason != "" {
			line += ": " + pos.Reason
		}
		b.WriteString(line + "\n")
	}
	if len(d.Awaiting) > 0 {
		fmt.Fprintf(&b, "Awaiting: %s\n", strings.Join(d.Awaiting, ", "))
	}
	if d.Heading != nil {
		fmt.Fprintf(&b, "Heading: %q\n", *d.Heading)
	}
	if d.Note != "" {
		fmt.Fprintf(&b, "Note: %s\n", d.Note)
	}
	if m := d.Placement.Words(); m != "" {
		fmt.Fprintf(&b, "Place: %s\n", m)
	}
	b.WriteString("\n")
	if d.Action == domain.ActionDelete {
		b.WriteString("Deletes the clause:\n")
	} else if d.Base != "" {
		fmt.Fprintf(&b, "Redline against revision %d:\n", d.BaseRevision)
	} else {
		b.WriteString("Text:\n")
	}
	b.WriteString(block(indent, textOps(d.Ops, st)) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
