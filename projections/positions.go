package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/internal/parallel"
	"github.com/treaty-engine/treaty/projections/redline"
)

// Positions is the four-column document of a negotiation at a moment, as
// trilogues keep it: for each clause under negotiation, the agreed text,
// then one column per participant holding its own open proposals on the
// clause (with their redlines) and its positions on the others'. An
// observer's column (a mediator's) holds its compromise texts. Its JSON
// form is docs/cli.md's.
type Positions struct {
	Treaty string `json:"treaty"`
	Title  string `json:"title"`
	At     Point  `json:"at"`
	// All lists every clause of the draft, not only those with open
	// proposals.
	All          bool              `json:"all"`
	Participants []domain.Party    `json:"participants"`
	Clauses      []PositionsClause `json:"clauses"`
}

// PositionsClause is one row: a clause and every participant's column.
type PositionsClause struct {
	ID string `json:"id"`
	// Number is the clause's number in the draft at the moment.
	Number  int    `json:"number"`
	Heading string `json:"heading"`
	// Agreed is the clause's agreed text (empty when it has none).
	Agreed   string `json:"agreed"`
	Revision int    `json:"revision"`
	// Shown is what a rendering calls the clause: its heading, the
	// heading its first proposal gives a clause with no agreed text (in
	// brackets), or its ID.
	Shown string `json:"-"`
	// Columns holds every participant's column, by party code.
	Columns map[string]*PositionsColumn `json:"columns"`
}

// PositionsColumn is one participant's column in a row.
type PositionsColumn struct {
	// Proposals are the participant's own open proposals on the clause.
	Proposals []ColumnProposal `json:"proposals"`
	// Positions are its positions on the other participants' open
	// proposals on the clause.
	Positions []ColumnPosition `json:"positions"`
}

// ColumnProposal is an open proposal in its proposer's column.
type ColumnProposal struct {
	Proposal string        `json:"proposal"`
	Party    string        `json:"party"`
	Action   domain.Action `json:"action"`
	Text     string        `json:"text"`
	Heading  *string       `json:"heading,omitempty"`
	// Ops is its redline against the text it was drafted against.
	Ops   []redline.Op `json:"ops"`
	Stale bool         `json:"stale"`
	Note  string       `json:"note,omitempty"`
	Placement
}

// ColumnPosition is a participant's position on another's proposal.
type ColumnPosition struct {
	Proposal string `json:"proposal"`
	// Proposer is the participant that tabled it.
	Proposer string `json:"proposer"`
	// Position is accepts, objects or awaiting (no position taken on a
	// proposal that can still be accepted).
	Position string `json:"position"`
	Reason   string `json:"reason,omitempty"`
}

// PositionAwaiting is the position of a party that has taken none yet.
const PositionAwaiting = "awaiting"

// PositionsOptions say which clauses a positions document lists.
type PositionsOptions struct {
	// Clause lists only that clause, whatever its proposals.
	Clause string
	// All lists every clause of the draft.
	All bool
}

// BuildPositions projects the state at a moment into its positions
// document. A clause named that is not in the draft is refused.
func BuildPositions(m Moment, opts PositionsOptions) (Positions, error) {
	return buildPositions(m, opts, words)
}

// Positions is BuildPositions, the proposals' redlines read from those
// kept by earlier commands where they can be (see proposalsMemo), and those
// worked out kept for the next.
func (r *Reader) Positions(ctx context.Context, m Moment, opts PositionsOptions) (Positions, error) {
	saved := r.proposalRedlines(ctx, positionsRedlines)
	p, err := buildPositions(m, opts, saved.words)
	if err == nil {
		r.saveRedlines(ctx, saved)
	}
	return p, err
}

// A positions document is a pure function of the log up to its moment, so
// a rendering of one is kept too, under a hash of the ref as given, the
// number and hash of the event the moment ends at, the options and the
// form: reviewers ask for the document now again and again between two
// acts, and the next act names another event.
const positionsMemo = "positions"

// WritePositions writes the positions document at ref (as Positions works
// it out) through render. form names the rendering (its format and
// styling): render must write the same bytes for the same Positions and
// form. A Reader with Options.Save keeps what it wrote, authenticated as
// checkpoints are; the next WritePositions by this build at the same ref,
// ending at the same event (by number, and by a hash that matches it),
// with the same options and form, writes it again as kept, having read of
// the log only the head checkpoint's summary and the events since, each
// checked to follow the one before it (see headSummary), and for a moment
// before now its last event. A ref to a time is resolved by reading the
// log: never kept.
func (r *Reader) WritePositions(ctx context.Context, w io.Writer, ref Ref, opts PositionsOptions, form string, render func(io.Writer, Positions) error) error {
	if ref.kind == refTime {
		return r.writePositions(ctx, w, ref, opts, form, render)
	}
	if summary, last, ok := r.headSummary(ctx); ok {
		if n, ok, err := Resolve(ref, summary); err == nil && ok {
			if hash, ok := r.hashAt(ctx, n, Moment{State: summary, Point: Point{Hash: last}}); ok {
				// Written as it is read back, a block at a time.
				if kept, err := r.cps.WriteMemo(ctx, positionsMemo, positionsName(ref, n, hash, opts, form), w); kept {
					return err
				}
			}
		}
	}
	return r.writePositions(ctx, w, ref, opts, form, render)
}

// writePositions is WritePositions once no document is found kept.
func (r *Reader) writePositions(ctx context.Context, w io.Writer, ref Ref, opts PositionsOptions, form string, render func(io.Writer, Positions) error) error {
	if r.working != nil {
		r.working()
	}
	m, err := r.At(ctx, ref)
	if err != nil {
		return err
	}
	p, err := r.Positions(ctx, m, opts)
	if err != nil {
		return err
	}
	if r.cps == nil || !r.save || ref.kind == refTime || m.Point.Hash == "" {
		return render(w, p)
	}
	name := positionsName(ref, m.State.Events, m.Point.Hash, opts, form)
	// Kept as it is: packing a few hundred kilobytes costs the first look
	// after each act more than writing them.
	return r.writeKept(ctx, w, positionsMemo, name, true, func(w io.Writer) error { return render(w, p) }, func() {})
}

// positionsName names the positions document at ref, which ends at event n
// with the given hash.
func positionsName(ref Ref, n int, hash string, opts PositionsOptions, form string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %d %s %+v %q\n", ref.text, n, hash, opts, form)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// buildPositions is BuildPositions, each redline worked out by w.
func buildPositions(m Moment, opts PositionsOptions, w func(before, after string) []redline.Op) (Positions, error) {
	s := m.State
	p := Positions{Treaty: s.Treaty, Title: s.Title, At: m.Point, All: opts.All,
		Participants: nonNilParties(s.Parties), Clauses: []PositionsClause{}}
	if opts.Clause != "" && !s.InDraft(opts.Clause) {
		return Positions{}, domain.Errorf(domain.ENOTFOUND, "clause %s is not in the draft of %s at %s; `treaty draft --at %s` lists the clauses", opts.Clause, s.Treaty, m.Point.Ref, m.Point.Ref)
	}
	var redlines []func()
	for i, c := range s.Draft() {
		open := s.OpenProposals(c.ID)
		switch {
		case opts.Clause != "" && c.ID != opts.Clause:
			continue
		case opts.Clause == "" && !opts.All && len(open) == 0:
			continue
		}
		row := PositionsClause{ID: c.ID, Number: i + 1, Heading: c.Heading, Revision: c.Revision, Columns: map[string]*PositionsColumn{}}
		if c.Agreed() {
			row.Agreed = c.Text
		}
		row.Shown = clauseHeading(DraftClause{ID: c.ID, Heading: c.Heading, Revision: c.Revision, OpenProposals: openHeadings(open)})
		for _, party := range s.Parties {
			row.Columns[party.Code] = &PositionsColumn{Proposals: []ColumnProposal{}, Positions: []ColumnPosition{}}
		}
		for _, pr := range open {
			col := row.Columns[pr.Party]
			if col == nil { // a proposer no longer listed; the rules allow none
				continue
			}
			stale := s.Stale(pr)
			col.Proposals = append(col.Proposals, ColumnProposal{Proposal: pr.Proposal, Party: pr.Party, Action: pr.Action,
				Text: pr.Text, Heading: pr.Heading, Stale: stale, Note: pr.Note, Placement: placementOf(s, pr)})
			j := len(col.Proposals) - 1
			// After every append: the column's proposals are in place.
			redlines = append(redlines, func() { col.Proposals[j].Ops = proposalOpsBy(pr, w) })
			for _, party := range s.Parties {
				if party.Code == pr.Party || party.Role != domain.RoleParty {
					continue
				}
				pos, ok := pr.Positions.Lookup(party.Code)
				switch {
				case ok:
					row.Columns[party.Code].Positions = append(row.Columns[party.Code].Positions,
						ColumnPosition{Proposal: pr.Proposal, Proposer: pr.Party, Position: string(pos.Stance), Reason: pos.Reason})
				case !stale:
					row.Columns[party.Code].Positions = append(row.Columns[party.Code].Positions,
						ColumnPosition{Proposal: pr.Proposal, Proposer: pr.Party, Position: PositionAwaiting})
				}
			}
		}
		p.Clauses = append(p.Clauses, row)
	}
	parallel.Each(len(redlines), func(i int) { redlines[i]() })
	return p, nil
}

// ColumnHead is a column of the positions table.
type ColumnHead struct {
	Code, Name string
	Observer   bool
}

// Columns lists the columns a rendering gives the document: every party,
// and each observer (a mediator) that has a proposal in a listed row.
func (p Positions) Columns() []ColumnHead {
	var heads []ColumnHead
	for _, party := range p.Participants {
		observer := party.Role == domain.RoleObserver
		if observer && !p.tabledBy(party.Code) {
			continue
		}
		heads = append(heads, ColumnHead{Code: party.Code, Name: party.Name, Observer: observer})
	}
	return heads
}

func (p Positions) tabledBy(code string) bool {
	for _, c := range p.Clauses {
		if col := c.Columns[code]; col != nil && len(col.Proposals) > 0 {
			return true
		}
	}
	return false
}

// openHeadings gives clauseHeading what it reads of open proposals: their
// headings.
func openHeadings(open []*domain.Proposal) []OpenProposal {
	ops := make([]OpenProposal, len(open))
	for i, p := range open {
		ops[i].Heading = p.Heading
	}
	return ops
}

// positionWords says a position for people: "accepts 30a623e8 (UA)",
// "objects to ab99364e (US): the Fund needs one administrator".
func positionWords(pos ColumnPosition) string {
	verb := pos.Position
	switch pos.Position {
	case string(domain.Objects):
		verb = "objects to"
	case PositionAwaiting:
		verb = "awaiting on"
	}
	s := fmt.Sprintf("%s %s (%s)", verb, domain.Short(pos.Proposal), pos.Proposer)
	if pos.Reason != "" {
		s += ": " + pos.Reason
	}
	return s
}
