package projections

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/projections/redline"
)

// BlameRun is a run of a clause's agreed text with the adoption that put it
// there.
type BlameRun struct {
	Text string `json:"text"`
	// Proposal and Party: the adopted proposal that introduced the words,
	// and the party that tabled it.
	Proposal string `json:"proposal"`
	Party    string `json:"party"`
	// Round, Event and Time: when the proposal was adopted.
	Round int       `json:"round"`
	Event int       `json:"event"`
	Time  time.Time `json:"time"`
	// place is where Event stands among the rounds (see RoundPlace).
	place string
}

// Place says where the adoption stands among the rounds, as RoundPlace
// does.
func (r BlameRun) Place() string { return r.place }

// BlameClause is one clause's agreed text, word by word attributed.
type BlameClause struct {
	ID       string     `json:"id"`
	Number   int        `json:"number"`
	Heading  string     `json:"heading"`
	Text     string     `json:"text"`
	Revision int        `json:"revision"`
	Runs     []BlameRun `json:"runs"`
}

// Blame is the provenance table of a negotiation's agreed text: for every
// clause, each run of words with the proposal, party and round that brought
// it in, like `git blame` at word level.
type Blame struct {
	Treaty  string        `json:"treaty"`
	Title   string        `json:"title"`
	AsOf    Point         `json:"as_of"`
	Clauses []BlameClause `json:"clauses"`
}

// adoption is what the provenance fold knows about one adoption.
type adoption struct {
	proposal, party string
	round, event    int
	time            time.Time
}

// attribute carries runs over an amendment: words the redline keeps keep
// their origin, inserted words get the new adoption's.
func attribute(old []BlameRun, before, after string, by adoption) []BlameRun {
	var runs []BlameRun
	add := func(r BlameRun) {
		if r.Text == "" {
			return
		}
		if n := len(runs); n > 0 && runs[n-1].Proposal == r.Proposal && runs[n-1].Event == r.Event {
			runs[n-1].Text += r.Text
			return
		}
		runs = append(runs, r)
	}
	// take returns the old runs covering the next n bytes of before.
	i, off := 0, 0
	take := func(n int) []BlameRun {
		var out []BlameRun
		for n > 0 && i < len(old) {
			r := old[i]
			rest := r.Text[off:]
			if len(rest) <= n {
				r.Text = rest
				out = append(out, r)
				n -= len(rest)
				i, off = i+1, 0
				continue
			}
			r.Text = rest[:n]
			out = append(out, r)
			off += n
			n = 0
		}
		return out
	}
	for _, op := range redline.Words(before, after) {
		switch op.Kind {
		case redline.Equal:
			for _, r := range take(len(op.Text)) {
				add(r)
			}
		case redline.Delete:
			take(len(op.Text))
		case redline.Insert:
			add(BlameRun{Text: op.Text, Proposal: by.proposal, Party: by.party, Round: by.round, Event: by.event, Time: by.time})
		}
	}
	return runs
}

// provenance replays a whole negotiation, checking it as every read does,
// and calls visit (when not nil) after every event, so that views of the
// history can follow each clause's text. With a list, it lists every
// proposal in it (see ProposalList).
func (r *Reader) provenance(ctx context.Context, list *ProposalList, visit func(Folded, *domain.State) error) (Moment, error) {
	s := &domain.State{}
	if list != nil {
		list.follow(s)
	}
	last, err := r.foldVisit(ctx, s, -1, Point{}, false, false, visit)
	if err != nil {
		return Moment{}, err
	}
	if s.Events == 0 {
		return Moment{}, fmt.Errorf("%w %q in this store", ErrNoTreaty, r.treaty)
	}
	if list != nil {
		if err := list.finish(s); err != nil {
			return Moment{}, err
		}
	}
	return Moment{Point: pointOf(Head, s, last), State: s}, nil
}

// Blame attributes the agreed text of every clause (or of the one named) to
// the adoptions that brought it in. It replays the whole log.
func (r *Reader) Blame(ctx context.Context, clause string) (Blame, error) {
	runs := map[string][]BlameRun{}
	// The runs of a clause before an adoption ad referendum: a capital's
	// decline restores them with the text.
	before := map[string][]BlameRun{}
	m, err := r.provenance(ctx, nil, func(ev Folded, s *domain.State) error {
		if d, ok := ev.Rec.Event.(domain.AdoptionDeclined); ok {
			if prev, ok := before[d.Clause]; ok {
				runs[d.Clause] = prev
			}
			delete(before, d.Clause)
			return nil
		}
		a, ok := ev.Rec.Event.(domain.ProposalAdopted)
		if !ok || clause != "" && a.Clause != clause {
			return nil
		}
		if c := s.Clauses[a.Clause]; c != nil && len(c.AdRef) > 0 {
			before[a.Clause] = runs[a.Clause]
		} else {
			delete(before, a.Clause)
		}
		was := ""
		if ev.Was.Agreed() {
			was = ev.Was.Text
		}
		now := s.Clauses[a.Clause]
		if !now.Agreed() {
			delete(runs, a.Clause)
			return nil
		}
		p := ev.Adopted
		runs[a.Clause] = attribute(runs[a.Clause], was, now.Text,
			adoption{proposal: p.Proposal, party: p.Party, round: ev.Meta.Round, event: ev.Rec.Number, time: ev.Meta.Time})
		return nil
	})
	if err != nil {
		return Blame{}, err
	}
	s := m.State
	if clause != "" {
		if c := s.Clauses[clause]; c == nil || !c.Agreed() {
			return Blame{}, domain.Errorf(domain.ENOTFOUND, "clause %s has no agreed text in %s; `treaty draft --agreed-only` lists those that do", clause, s.Treaty)
		}
	}
	b := Blame{Treaty: s.Treaty, Title: s.Title, AsOf: m.Point, Clauses: []BlameClause{}}
	n := 0
	for _, c := range s.Draft() {
		if !c.Agreed() {
			continue
		}
		n++
		if clause != "" && c.ID != clause {
			continue
		}
		rs := runs[c.ID]
		for i := range rs {
			rs[i].place = RoundPlace(s.Rounds, rs[i].Event)
		}
		b.Clauses = append(b.Clauses, BlameClause{ID: c.ID, Number: n, Heading: c.Heading, Text: c.Text,
			Revision: c.Revision, Runs: rs})
	}
	return b, nil
}

// PositionEvent is a party's position on a proposal, when it was taken.
// Besides the stances, Stance may be "confirms" or "declines": the party's
// capital on an adoption ad referendum.
type PositionEvent struct {
	Party        string    `json:"party"`
	Stance       string    `json:"stance"`
	Reason       string    `json:"reason,omitempty"`
	SubjectTo    []string  `json:"subject_to,omitempty"`
	AdReferendum bool      `json:"ad_referendum,omitempty"`
	Event        int       `json:"event"`
	Round        int       `json:"round"`
	Time         time.Time `json:"time"`
}

// Stances of a capital on an adoption ad referendum, as PositionEvents
// show them.
const (
	StanceConfirms = "confirms"
	StanceDeclines = "declines"
)

// ProposalStory is one proposal on a clause from tabling to its fate.
type ProposalStory struct {
	ID     string        `json:"id"`
	Party  string        `json:"party"`
	Action domain.Action `json:"action"`
	Text   string        `json:"text"`
	Note   string        `json:"note,omitempty"`
	// BaseRevision is the revision it was drafted against.
	BaseRevision int       `json:"base_revision"`
	Tabled       int       `json:"tabled"`
	Round        int       `json:"round"`
	Time         time.Time `json:"time"`
	// Positions lists every position taken on it, in order, the tabling
	// party's implied acceptance first.
	Positions []PositionEvent `json:"positions"`
	// Fate is adopted, withdrawn, stale (open but overtaken) or open.
	Fate   string     `json:"fate"`
	Closed int        `json:"closed,omitempty"`
	At     *time.Time `json:"closed_at,omitempty"`
	// Versions lists every version, oldest first, each with its redline
	// from the one before; Comments the thread under it.
	Versions []VersionView `json:"versions"`
	Comments []CommentView `json:"comments"`
	Rebases  string        `json:"rebases,omitempty"`
	// place is where Tabled stands among the rounds (see RoundPlace).
	place string
}

// Place says where the proposal was tabled among the rounds, as RoundPlace
// does.
func (p ProposalStory) Place() string { return p.place }

// Revision is one adopted text of a clause.
type Revision struct {
	Revision int    `json:"revision"`
	Heading  string `json:"heading"`
	Text     string `json:"text"`
	Deleted  bool   `json:"deleted"`
	// Restores: the revision restores the text from before an adoption ad
	// referendum its party's capital declined (Proposal, by Party).
	Restores bool `json:"restores,omitempty"`
	// AdRef lists the parties whose capitals the adoption awaited.
	AdRef []string `json:"ad_ref,omitempty"`
	// Ops is the redline from the previous revision's text.
	Ops      []redline.Op `json:"ops"`
	Proposal string       `json:"proposal"`
	Party    string       `json:"party"`
	Event    int          `json:"event"`
	Round    int          `json:"round"`
	Time     time.Time    `json:"time"`
	// place is where Event stands among the rounds (see RoundPlace).
	place string
}

// Place says where the revision was adopted among the rounds, as
// RoundPlace does.
func (r Revision) Place() string { return r.place }

// ClauseHistory is every revision of one clause and every proposal made on
// it, adopted or not.
type ClauseHistory struct {
	Treaty    string          `json:"treaty"`
	Clause    string          `json:"clause"`
	AsOf      Point           `json:"as_of"`
	Revisions []Revision      `json:"revisions"`
	Proposals []ProposalStory `json:"proposals"`
}

// ClauseHistory tells the story of one clause: each revision with its redline
// from the one before, who proposed it, who accepted and objected when, and
// the proposals that died. It replays the whole log.
func (r *Reader) ClauseHistory(ctx context.Context, clause string) (ClauseHistory, error) {
	h := ClauseHistory{Clause: clause, Revisions: []Revision{}, Proposals: []ProposalStory{}}
	stories := map[string]int{} // proposal → index in h.Proposals
	position := func(id string, pe PositionEvent) {
		if i, ok := stories[id]; ok {
			h.Proposals[i].Positions = append(h.Proposals[i].Positions, pe)
		}
	}
	m, err := r.provenance(ctx, nil, func(ev Folded, s *domain.State) error {
		rec, meta := ev.Rec, ev.Meta
		at := func(party, stance, reason string) PositionEvent {
			return PositionEvent{Party: party, Stance: stance, Reason: reason, Event: rec.Number, Round: meta.Round, Time: meta.Time}
		}
		story := func(id string) *ProposalStory {
			if i, ok := stories[id]; ok {
				return &h.Proposals[i]
			}
			return nil
		}
		revision := func(was domain.Clause, proposal, party string) Revision {
			before := ""
			if was.Agreed() {
				before = was.Text
			}
			now := s.Clauses[clause]
			rev := Revision{Revision: now.Revision, Heading: now.Heading, Text: now.Text, Deleted: now.Deleted,
				Proposal: proposal, Party: party, Event: rec.Number, Round: meta.Round, Time: meta.Time}
			rev.Ops = redline.Words(before, rev.Text)
			if rev.Ops == nil {
				rev.Ops = []redline.Op{}
			}
			return rev
		}
		switch e := rec.Event.(type) {
		case domain.ProposalTabled:
			if e.Clause != clause {
				return nil
			}
			t := meta.Time
			p := ProposalStory{ID: e.Proposal, Party: e.Party, Action: e.Action, Text: e.Text, Note: e.Note,
				BaseRevision: e.BaseRevision, Tabled: rec.Number, Round: meta.Round, Time: meta.Time, Fate: "open",
				Positions: []PositionEvent{}, Comments: []CommentView{}, Rebases: e.Rebases}
			if op, ok := s.Proposals[e.Proposal]; ok {
				p.Versions = Versions(op)
				p.Versions[0].Time = &t
			}
			if pp, ok := s.Party(e.Party); ok && pp.Role == domain.RoleParty {
				p.Positions = append(p.Positions, at(e.Party, string(domain.Accepts), "tabled it"))
			}
			stories[e.Proposal] = len(h.Proposals)
			h.Proposals = append(h.Proposals, p)
		case domain.ProposalAccepted:
			pe := at(e.Party, string(domain.Accepts), "")
			pe.SubjectTo, pe.AdReferendum = e.SubjectTo, e.AdReferendum
			position(e.Proposal, pe)
		case domain.ProposalObjected:
			position(e.Proposal, at(e.Party, string(domain.Objects), e.Reason))
		case domain.ProposalRevised:
			if p := story(e.Proposal); p != nil {
				t, before := meta.Time, p.Text
				if n := len(p.Versions); n > 0 {
					before = p.Versions[n-1].Text
				}
				ops := redline.Words(before, e.Text)
				if ops == nil {
					ops = []redline.Op{}
				}
				p.Versions = append(p.Versions, VersionView{Version: e.Version, Text: e.Text, Heading: e.Heading, Note: e.Note,
					Event: rec.Number, Time: &t, Ops: ops})
				p.Text, p.Note = e.Text, e.Note
			}
		case domain.ProposalCommented:
			if p := story(e.Proposal); p != nil {
				t := meta.Time
				p.Comments = append(p.Comments, CommentView{Party: e.Party, Text: e.Text, Event: rec.Number, Time: &t})
			}
		case domain.AdoptionConfirmed:
			position(e.Proposal, at(e.Party, StanceConfirms, "its capital confirmed the adoption ad referendum"))
		case domain.AdoptionDeclined:
			if e.Clause != clause {
				return nil
			}
			position(e.Proposal, at(e.Party, StanceDeclines, "its capital declined the adoption ad referendum"))
			rev := revision(ev.Was, e.Proposal, e.Party)
			rev.Restores = true
			h.Revisions = append(h.Revisions, rev)
		case domain.ProposalWithdrawn:
			if p := story(e.Proposal); p != nil {
				t := meta.Time
				p.Fate, p.Closed, p.At = ProposalWithdrawn, rec.Number, &t
			}
		case domain.ProposalAdopted:
			p := story(e.Proposal)
			if p == nil {
				return nil
			}
			t := meta.Time
			p.Fate, p.Closed, p.At = ProposalAdopted, rec.Number, &t
			rev := revision(ev.Was, ev.Adopted.Proposal, ev.Adopted.Party)
			rev.AdRef = slices.Clone(s.Clauses[clause].AdRef)
			h.Revisions = append(h.Revisions, rev)
		}
		return nil
	})
	if err != nil {
		return h, err
	}
	h.Treaty, h.AsOf = m.State.Treaty, m.Point
	if len(h.Proposals) == 0 {
		return h, domain.Errorf(domain.ENOTFOUND, "no proposal was ever tabled on clause %s in %s", clause, h.Treaty)
	}
	rounds := m.State.Rounds
	for i := range h.Proposals {
		if p, ok := m.State.Proposals[h.Proposals[i].ID]; ok && m.State.Stale(p) {
			h.Proposals[i].Fate = ProposalStale
		}
		h.Proposals[i].place = RoundPlace(rounds, h.Proposals[i].Tabled)
	}
	for i := range h.Revisions {
		h.Revisions[i].place = RoundPlace(rounds, h.Revisions[i].Event)
	}
	return h, nil
}
