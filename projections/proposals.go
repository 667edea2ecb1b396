package projections

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

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
	// Version counts its versions (1 until the proposer revises it);
	// Rebases names the stale proposal it carried over, if it did.
	Version int    `json:"version"`
	Rebases string `json:"rebases,omitempty"`
	// place is where Tabled stands among the rounds (see RoundPlace).
	place string
	// Placement: where the proposal puts the clause, and the move its
	// adoption makes while it is open.
	Placement
}

// Place says where the proposal was tabled among the rounds, as RoundPlace
// does.
func (p ProposalSummary) Place() string { return p.place }

// PositionView is a party's latest position on a proposal: SubjectTo the
// proposals an acceptance is subject to, AdReferendum whether it awaits
// the party's capital.
type PositionView struct {
	Party        string   `json:"party"`
	Stance       string   `json:"stance"`
	Reason       string   `json:"reason,omitempty"`
	Event        int      `json:"event"`
	SubjectTo    []string `json:"subject_to,omitempty"`
	AdReferendum bool     `json:"ad_referendum,omitempty"`
}

// VersionView is one version of a proposal, with its redline from the
// version before it (the first version's from the text it was drafted
// against). Time is the time of Event, where the view read it.
type VersionView struct {
	Version int          `json:"version"`
	Text    string       `json:"text"`
	Heading *string      `json:"heading,omitempty"`
	Note    string       `json:"note,omitempty"`
	Event   int          `json:"event"`
	Time    *time.Time   `json:"time,omitempty"`
	Ops     []redline.Op `json:"ops"`
}

// CommentView is a comment under a proposal.
type CommentView struct {
	Party string     `json:"party"`
	Text  string     `json:"text"`
	Event int        `json:"event"`
	Time  *time.Time `json:"time,omitempty"`
}

// Versions lists every version of p, oldest first, each with its redline.
func Versions(p *domain.Proposal) []VersionView {
	out := make([]VersionView, 0, len(p.Versions)+1)
	before := p.BaseText
	add := func(v domain.Version) {
		ops := redline.Words(before, v.Text)
		if p.Action == domain.ActionDelete {
			ops = redline.Words(before, "")
		}
		if ops == nil {
			ops = []redline.Op{}
		}
		out = append(out, VersionView{Version: max(v.Version, 1), Text: v.Text, Heading: v.Heading, Note: v.Note, Event: v.Event, Ops: ops})
		before = v.Text
	}
	for _, v := range p.Versions {
		add(v)
	}
	event := p.Revised
	if event == 0 {
		event = p.Tabled
	}
	add(domain.Version{Version: p.Version, Text: p.Text, Heading: p.Heading, Note: p.Note, Event: event})
	return out
}

// Comments lists the comments under p, oldest first.
func Comments(p *domain.Proposal) []CommentView {
	out := make([]CommentView, len(p.Comments))
	for i, c := range p.Comments {
		out[i] = CommentView{Party: c.Party, Text: c.Text, Event: c.Event}
	}
	return out
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
		BaseRevision: p.BaseRevision, Tabled: p.Tabled, Round: p.Round, Closed: p.Closed,
		Version: max(p.Version, 1), Rebases: p.Rebases, Placement: placementOf(s, p), place: RoundPlace(s.Rounds, p.Tabled)}
	if s.Stale(p) {
		sum.Status = ProposalStale
	} else if p.Status == domain.StatusOpen {
		sum.Awaiting = nonNil(s.Awaiting(p))
	}
	for _, party := range s.Parties {
		if pos, ok := p.Positions.Lookup(party.Code); ok {
			sum.Positions = append(sum.Positions, PositionView{Party: party.Code, Stance: string(pos.Stance), Reason: pos.Reason,
				Event: pos.Event, SubjectTo: pos.SubjectTo, AdReferendum: pos.AdReferendum})
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
	// Versions lists every version, oldest first (one until it is
	// revised); Comments the thread under it.
	Versions []VersionView `json:"versions"`
	Comments []CommentView `json:"comments"`
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
	then, err := r.StateAt(ctx, eventRef(closed.Closed-1), closed.Closed-1, head.State)
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
	d.Versions, d.Comments = Versions(p), Comments(p)
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
	d.Versions, d.Comments = Versions(whole), Comments(whole)
	return d, nil
}

// WriteProposalsText writes a table of proposals.
func WriteProposalsText(w io.Writer, ps []ProposalSummary, st Style) error {
	ps = Printable(ps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(proposalHeader[:], "\t"))
	for _, p := range ps {
		fmt.Fprintln(tw, strings.Join(proposalCells(p), "\t"))
	}
	return tw.Flush()
}

// proposalCells are the cells of p's row in the table of proposals, p made
// printable first.
func proposalCells(p ProposalSummary) []string {
	var accepted []string
	for _, pos := range p.Positions {
		if pos.Stance == string(domain.Accepts) {
			accepted = append(accepted, strings.Replace(stanceLabel(pos), "accepts", pos.Party, 1))
		}
	}
	return []string{domain.Short(p.ID), p.Clause, string(p.Action), p.Party, p.Status,
		dash(accepted), dash(p.ObjectedBy), dash(p.Awaiting), placeColumn(p.place), p.Placement.short()}
}

func dash(codes []string) string {
	if len(codes) == 0 {
		return "-"
	}
	return strings.Join(codes, ",")
}

// WriteProposalText writes one proposal and its redline for people.
func WriteProposalText(w io.Writer, d ProposalDetail, st Style) error {
	d = Printable(d)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", st.Bold("Proposal"), d.ID)
	what := fmt.Sprintf("%s of clause %s by %s, tabled at event %d", d.Action, d.Clause, d.Party, d.Tabled)
	if place := placePhrase(d.place); place != "" {
		what += " " + place
	}
	b.WriteString(st.hang("", "  ", fmt.Sprintf("%s, against revision %d", what, d.BaseRevision)) + "\n")
	status := d.Status
	switch d.Status {
	case ProposalAdopted, ProposalWithdrawn:
		status += fmt.Sprintf(" at event %d", d.Closed)
	case ProposalStale:
		status += fmt.Sprintf(": the clause is at revision %d now; this proposal can no longer be accepted", d.CurrentRevision)
	}
	b.WriteString(st.hang("Status: ", "        ", status) + "\n")
	if d.Version > 1 {
		fmt.Fprintf(&b, "Version %d\n", d.Version)
	}
	if d.Rebases != "" {
		fmt.Fprintf(&b, "Rebases %s onto the clause's current text\n", d.Rebases)
	}
	for _, pos := range d.Positions {
		line := fmt.Sprintf("%s %s (event %d)", pos.Party, stanceLabel(pos), pos.Event)
		if pos.Reason != "" {
			line += ": " + pos.Reason
		}
		b.WriteString(st.hang("  ", "    ", line) + "\n")
	}
	if len(d.Awaiting) > 0 {
		fmt.Fprintf(&b, "Awaiting: %s\n", strings.Join(d.Awaiting, ", "))
	}
	if d.Heading != nil {
		fmt.Fprintf(&b, "Heading: \"%s\"\n", *d.Heading)
	}
	if d.Note != "" {
		b.WriteString(st.hang("Note: ", "      ", d.Note) + "\n")
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
	b.WriteString(st.block(indent, textOps(d.Ops, st)) + "\n")
	if len(d.Versions) > 1 {
		b.WriteString("\nVersions:\n")
		for _, v := range d.Versions {
			fmt.Fprintf(&b, "  version %d (event %d)", v.Version, v.Event)
			if v.Note != "" {
				fmt.Fprintf(&b, ": %s", v.Note)
			}
			b.WriteString("\n" + st.block(indent+"  ", textOps(v.Ops, st)) + "\n")
		}
	}
	if len(d.Comments) > 0 {
		b.WriteString("\nComments:\n")
		for _, c := range d.Comments {
			fmt.Fprintf(&b, "  %s (event %d):\n%s\n", c.Party, c.Event, st.block(indent+"  ", c.Text))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Words says the position in words, as stanceLabel does: "accepts ad ref
// subject to 3f2a91c0".
func (pos PositionView) Words() string { return stanceLabel(pos) }

// Words says the position in words: "accepts ad ref subject to 3f2a91c0",
// "declines".
func (pe PositionEvent) Words() string {
	return stanceLabel(PositionView{Stance: pe.Stance, SubjectTo: pe.SubjectTo, AdReferendum: pe.AdReferendum})
}

// stanceLabel says a position in words: "accepts", "accepts ad ref",
// "accepts subject to 3f2a1b2c", "objects", "lapsed".
func stanceLabel(pos PositionView) string {
	s := pos.Stance
	if pos.AdReferendum {
		s += " ad ref"
	}
	if len(pos.SubjectTo) > 0 {
		s += " subject to " + shortIDs(pos.SubjectTo)
	}
	return s
}

// shortIDs names proposals by their short IDs: "3f2a91c0 and 9b1c44d2".
func shortIDs(ids []string) string {
	short := make([]string, len(ids))
	for i, id := range ids {
		short[i] = domain.Short(id)
	}
	return strings.Join(short, " and ")
}
