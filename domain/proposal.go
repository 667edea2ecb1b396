package domain

import (
	"iter"
	"maps"
	"slices"
	"strings"
)

// Status is where a proposal stands.
type Status string

const (
	StatusOpen      Status = "open"
	StatusAdopted   Status = "adopted"
	StatusWithdrawn Status = "withdrawn"
)

// Stance is a party's position on a proposal.
type Stance string

const (
	Accepts Stance = "accepts"
	Objects Stance = "objects"
	// Lapsed: an acceptance subject to a proposal that was withdrawn or
	// went stale; the party is awaited again.
	Lapsed Stance = "lapsed"
)

// Position is a party's latest position on a proposal.
type Position struct {
	Stance Stance
	// Reason is an objection's reason, or why an acceptance lapsed.
	Reason string
	// Event is the number of the event that recorded it.
	Event int
	// SubjectTo, for an acceptance subject to other proposals, names
	// them: it counts once they are adopted.
	SubjectTo []string
	// AdReferendum: accepted subject to the party's capital.
	AdReferendum bool
}

// Positions holds each party's latest position on a proposal, sorted by
// party code. A proposal has a few: a slice rather than a map, since a
// command reading a checkpoint decodes hundreds of them, and a map each
// cost it a quarter of the decoding.
type Positions []PartyPosition

// PartyPosition is one party's position in Positions.
type PartyPosition struct {
	Party string
	Position
}

// Of returns party's position: the zero Position when it has taken none.
func (ps Positions) Of(party string) Position {
	pos, _ := ps.Lookup(party)
	return pos
}

// Lookup returns party's position, and whether it has taken one.
func (ps Positions) Lookup(party string) (Position, bool) {
	for i := range ps {
		if ps[i].Party == party {
			return ps[i].Position, true
		}
	}
	return Position{}, false
}

// Set gives party the position pos, in place of any it had.
func (ps *Positions) Set(party string, pos Position) {
	i, found := slices.BinarySearchFunc(*ps, party, func(p PartyPosition, party string) int { return strings.Compare(p.Party, party) })
	if found {
		(*ps)[i].Position = pos
		return
	}
	*ps = slices.Insert(*ps, i, PartyPosition{Party: party, Position: pos})
}

// Keep keeps the positions of the parties keep reports, and drops the rest;
// none left is nil, as a proposal with none has.
func (ps *Positions) Keep(keep func(party string) bool) {
	if *ps = slices.DeleteFunc(*ps, func(p PartyPosition) bool { return !keep(p.Party) }); len(*ps) == 0 {
		*ps = nil
	}
}

// Version is an earlier version of a revised proposal.
type Version struct {
	Version int
	Text    string
	Heading *string
	Note    string
	// Event is the event that tabled or revised it.
	Event int
}

// Comment is a participant's comment on a proposal.
type Comment struct {
	Party string
	Text  string
	Event int
}

// Proposal is a tabled proposal and where it stands.
type Proposal struct {
	ProposalTabled
	// BaseText is the clause's agreed text at BaseRevision, the text the
	// proposal was drafted against (empty when there was none): a stale
	// proposal is read against it, not against the clause now.
	BaseText string
	// Tabled is the number of the ProposalTabled event; Round the round it
	// was tabled in (0 between rounds).
	Tabled int
	Round  int
	Status Status
	// Closed is the number of the event that adopted or withdrew it.
	Closed int
	// Positions holds each party's latest position; observers have none.
	Positions Positions
	// Placed reports that the clause took its place in the draft when this
	// proposal was tabled, so adopting it moves nothing.
	Placed bool
	// Version counts its versions: 1 as tabled, one more per revision;
	// Versions holds the earlier ones, oldest first.
	Version  int
	Versions []Version
	// Revised is the event of its latest revision (0: never revised).
	Revised int
	// Comments is the thread under it, oldest first.
	Comments []Comment
}

// LookupProposal returns proposal id, open or closed. A closed proposal
// comes back as its compact record (no text, no positions) unless the state
// keeps closed proposals whole. The error is a failure to read the closed
// proposals, not their absence.
func (s *State) LookupProposal(id string) (*Proposal, bool, error) {
	if p, ok := s.Proposals[id]; ok {
		return p, true, nil
	}
	if s.Closed == nil {
		return nil, false, nil
	}
	c, ok, err := s.Closed.Lookup(id)
	if err != nil || !ok {
		return nil, false, err
	}
	return c.proposal(), true, nil
}

func (c ClosedProposal) proposal() *Proposal {
	return &Proposal{ProposalTabled: ProposalTabled{Proposal: c.ID, Clause: c.Clause, Party: c.Party, Action: c.Action},
		Tabled: c.Tabled, Round: c.Round, Status: c.Status, Closed: c.Closed}
}

// AllProposals yields every proposal ever tabled, in no particular order:
// open ones whole, closed ones as LookupProposal returns them. A failure to
// read the closed proposals comes last, as the error.
func (s *State) AllProposals() iter.Seq2[*Proposal, error] {
	return func(yield func(*Proposal, error) bool) {
		for _, p := range s.Proposals {
			if !yield(p, nil) {
				return
			}
		}
		if s.KeepClosed || s.Closed == nil {
			return
		}
		for c, err := range s.Closed.All() {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(c.proposal(), nil) {
				return
			}
		}
	}
}

// ClosedProposals yields what the state keeps of every closed proposal, in
// no particular order, without building a Proposal for each: the cheap way
// over a long history.
func (s *State) ClosedProposals() iter.Seq2[ClosedProposal, error] {
	if s.Closed == nil {
		return func(func(ClosedProposal, error) bool) {}
	}
	return s.Closed.All()
}

// AcceptedBy and ObjectedBy list the parties whose latest position on p is
// acceptance (without conditions: see Conditional) or objection, in the
// order the parties were listed when the negotiation opened.
func (s *State) AcceptedBy(p *Proposal) []string {
	return s.parties(p, func(pos Position) bool { return pos.Stance == Accepts && len(pos.SubjectTo) == 0 })
}

// ObjectedBy: see AcceptedBy.
func (s *State) ObjectedBy(p *Proposal) []string {
	return s.parties(p, func(pos Position) bool { return pos.Stance == Objects })
}

// AdReferendum lists the parties whose acceptance of p is ad referendum.
func (s *State) AdReferendum(p *Proposal) []string {
	return s.parties(p, func(pos Position) bool { return pos.Stance == Accepts && pos.AdReferendum })
}

// LapsedFor lists the parties whose conditional acceptance of p lapsed.
func (s *State) LapsedFor(p *Proposal) []string {
	return s.parties(p, func(pos Position) bool { return pos.Stance == Lapsed })
}

func (s *State) parties(p *Proposal, match func(Position) bool) []string {
	var codes []string
	for _, party := range s.Parties {
		if pos, ok := p.Positions.Lookup(party.Code); ok && match(pos) {
			codes = append(codes, party.Code)
		}
	}
	return codes
}

// Awaiting lists the parties whose acceptance p still needs.
func (s *State) Awaiting(p *Proposal) []string {
	var codes []string
	for _, party := range s.Parties {
		if party.Role == RoleParty && p.Positions.Of(party.Code).Stance != Accepts {
			codes = append(codes, party.Code)
		}
	}
	return codes
}

// FindOpenProposal resolves ref as FindProposal does, for acts on an open
// proposal: a prefix that exactly one open proposal has names it, even if
// closed proposals share the prefix (as git, when it needs a commit, picks
// the commit among objects that share an abbreviation). Only a ref that no
// open proposal matches is looked up among the closed ones, so that the
// refusal can say what became of it, and a long history is not read for
// every position a party takes.
func (s *State) FindOpenProposal(ref string) (*Proposal, error) {
	if p, ok := s.Proposals[ref]; ok {
		return p, nil
	}
	var found *Proposal
	if len(ref) >= 4 {
		for id, p := range s.Proposals {
			if !hasPrefixFold(id, ref) || p.Status != StatusOpen {
				continue
			}
			if found != nil {
				return s.FindProposal(ref) // ambiguous: say so, with every match
			}
			found = p
		}
	}
	if found != nil {
		return found, nil
	}
	return s.FindProposal(ref)
}

// FindProposal resolves a proposal ID or a unique prefix of one (at least 4
// characters). An ID given exactly names its proposal; else ref is a prefix,
// in any case: the command line makes lower-case IDs, but a log written
// elsewhere may hold upper-case ones, and people type either. (Among closed
// proposals, which may be kept sorted outside memory, a prefix matches IDs
// in the case it is given, in lower case or in upper case.) A closed
// proposal comes back as LookupProposal returns it.
func (s *State) FindProposal(ref string) (*Proposal, error) {
	if p, ok, err := s.LookupProposal(ref); err != nil || ok {
		return p, err
	}
	if len(ref) < 4 {
		return nil, Errorf(EINVALID, "proposal %q: give at least 4 characters of the proposal ID", ref)
	}
	matched := map[string]bool{}
	for id := range s.Proposals {
		if hasPrefixFold(id, ref) {
			matched[id] = true
		}
	}
	if !s.KeepClosed && s.Closed != nil {
		for _, prefix := range []string{ref, strings.ToLower(ref), strings.ToUpper(ref)} {
			closed, err := s.Closed.WithPrefix(prefix)
			if err != nil {
				return nil, err
			}
			for _, id := range closed {
				matched[id] = true
			}
		}
	}
	found := slices.Sorted(maps.Keys(matched))
	switch len(found) {
	case 0:
		return nil, Errorf(ENOTFOUND, "no proposal %q in %s", ref, s.Treaty).because(ReasonNoProposal, "")
	case 1:
		p, _, err := s.LookupProposal(found[0])
		return p, err
	}
	if len(found) > 5 {
		found = append(found[:5], "…")
	}
	return nil, Errorf(EINVALID, "proposal prefix %q is ambiguous: it matches %s; give more characters", ref, strings.Join(found, ", "))
}

// hasPrefixFold reports whether id starts with prefix, in any case.
func hasPrefixFold(id, prefix string) bool {
	return len(id) >= len(prefix) && strings.EqualFold(id[:len(prefix)], prefix)
}

// existing returns proposal id, refusing one that does not exist.
func (s *State) existing(id string) (*Proposal, error) {
	p, ok, err := s.LookupProposal(id)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, Errorf(ENOTFOUND, "no proposal %s in %s", id, s.Treaty).because(ReasonNoProposal, "")
	}
	return p, nil
}

func (s *State) checkTable(e ProposalTabled) error {
	if err := CheckSlug("proposal ID", e.Proposal); err != nil {
		return err
	}
	if _, dup, err := s.LookupProposal(e.Proposal); err != nil {
		return err
	} else if dup {
		return Errorf(ECONFLICT, "proposal ID %s is already taken", e.Proposal)
	}
	if err := CheckSlug("clause ID", e.Clause); err != nil {
		return err
	}
	if _, err := s.Participant(e.Party); err != nil {
		return err
	}
	want, err := s.tableAction(e.Clause, e.Action == ActionDelete)
	if err != nil {
		return err
	}
	if e.Action != want {
		return Errorf(ECONFLICT, "a proposal to %s clause %s, which calls for %s", e.Action, e.Clause, want)
	}
	rev := 0
	if c := s.Clauses[e.Clause]; c != nil {
		rev = c.Revision
	}
	if e.BaseRevision != rev {
		return Errorf(ECONFLICT, "a proposal drafted against revision %d of clause %s, which is at revision %d", e.BaseRevision, e.Clause, rev)
	}
	switch {
	case e.Action == ActionDelete && (e.Text != "" || e.Heading != nil || e.After != "" || e.First):
		return Errorf(EINVALID, "a deletion carries no text, heading or place")
	case e.Action != ActionDelete && strings.TrimSpace(e.Text) == "":
		return Errorf(EINVALID, "the proposed text of clause %s is empty", e.Clause).because(ReasonEmptyText, e.Clause)
	}
	if err := checkSize("text of clause "+e.Clause, e.Text, MaxText); err != nil {
		return err
	}
	if err := checkChars("text", e.Text, true); err != nil {
		return err
	}
	if e.Heading != nil {
		if err := checkLine("heading", *e.Heading); err != nil {
			return err
		}
	}
	if err := checkLine("note", e.Note); err != nil {
		return err
	}
	if e.Rebases != "" {
		old, err := s.existing(e.Rebases)
		switch {
		case err != nil:
			return err
		case old.Party != e.Party:
			return Errorf(EFORBIDDEN, "only %s, who tabled proposal %s, may rebase it", old.Party, Short(old.Proposal))
		case old.Clause != e.Clause:
			return Errorf(ECONFLICT, "proposal %s is on clause %s, not %s", Short(old.Proposal), old.Clause, e.Clause)
		case old.Status != StatusOpen:
			return s.checkOpen(old)
		case !s.Stale(old):
			return Errorf(ECONFLICT, "proposal %s is not stale: it is drafted against the clause's current text already; revise it instead", Short(old.Proposal))
		}
	}
	if s.Concluded != nil {
		return Errorf(ECONFLICT, "the text was concluded at event %d: nothing is tabled until every party agrees to reopen it", s.Concluded.Event).because(ReasonConcluded, "")
	}
	if e.After != "" {
		switch {
		case e.First:
			return Errorf(EINVALID, "a clause goes either first or after another, not both")
		case e.After == e.Clause:
			return Errorf(EINVALID, "clause %s cannot be placed after itself", e.Clause)
		case !s.InDraft(e.After):
			return Errorf(ENOTFOUND, "clause %s (named to place %s after) is not in the draft", e.After, e.Clause)
		}
	}
	return nil
}

func (s *State) table(e ProposalTabled) error {
	if err := s.checkTable(e); err != nil {
		return err
	}
	c := s.Clauses[e.Clause]
	if c == nil {
		c = &Clause{ID: e.Clause}
		s.Clauses[e.Clause] = c
	}
	idx := s.index() // before p joins Proposals, from which it is built
	s.Tabled++
	p := &Proposal{ProposalTabled: e, Tabled: s.Events + 1, Round: s.OpenRound(), Status: StatusOpen, Version: 1}
	if c.Agreed() {
		p.BaseText = c.Text
	}
	if !s.InDraft(e.Clause) {
		// A clause entering the draft takes its place now, brackets and all.
		s.place(e.Clause, e.After, e.First, true)
		p.Placed = true
	}
	s.Proposals[e.Proposal] = p
	idx[e.Clause] = append(idx[e.Clause], e.Proposal)
	if party, _ := s.Party(e.Party); party.Role == RoleParty {
		p.Positions.Set(e.Party, Position{Stance: Accepts, Event: s.Events + 1})
	}
	s.track(p)
	return s.settle()
}

// positionable finds a proposal that a party takes a position on and checks
// that a position can still be taken.
func (s *State) positionable(id, code, verb string) (*Proposal, error) {
	party, err := s.Participant(code)
	if err != nil {
		return nil, err
	}
	p, err := s.existing(id)
	if err != nil {
		return nil, err
	}
	if party.Role != RoleParty {
		return nil, Errorf(EFORBIDDEN, "%s is an observer: observers table, withdraw and comment on proposals but do not %s them", code, verb)
	}
	if err := s.checkOpen(p); err != nil {
		return nil, err
	}
	if s.Stale(p) {
		c := s.Clauses[p.Clause]
		now := "is deleted"
		if c.Agreed() {
			now = "now reads " + quote(c.Text)
		}
		return nil, Errorf(ESTALE, "proposal %s is stale: it was drafted against revision %d of clause %s, and another proposal has since been adopted. The clause %s (revision %d)", Short(p.Proposal), p.BaseRevision, p.Clause, now, c.Revision).because(ReasonStale, p.Clause)
	}
	return p, nil
}

// openProposal returns proposal id, refusing one that does not exist or is
// closed.
func (s *State) openProposal(id string) (*Proposal, error) {
	p, err := s.existing(id)
	if err != nil {
		return nil, err
	}
	if err := s.checkOpen(p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *State) checkOpen(p *Proposal) error {
	switch p.Status {
	case StatusAdopted:
		return Errorf(ECONFLICT, "proposal %s is already adopted (event %d)", Short(p.Proposal), p.Closed)
	case StatusWithdrawn:
		return Errorf(ECONFLICT, "proposal %s was withdrawn by %s (event %d)", Short(p.Proposal), p.Party, p.Closed)
	}
	return nil
}

func (s *State) checkAccept(e ProposalAccepted) (*Proposal, error) {
	p, err := s.positionable(e.Proposal, e.Party, "accept")
	if err != nil {
		return nil, err
	}
	if err := s.checkConditions(p, e.SubjectTo); err != nil {
		return nil, err
	}
	if pos := p.Positions.Of(e.Party); pos.Stance == Accepts && slices.Equal(pos.SubjectTo, e.SubjectTo) && pos.AdReferendum == e.AdReferendum {
		how := ""
		switch {
		case len(e.SubjectTo) > 0 && e.AdReferendum:
			how = " ad referendum, subject to the same proposals"
		case len(e.SubjectTo) > 0:
			how = " subject to the same proposals"
		case e.AdReferendum:
			how = " ad referendum"
		}
		return nil, Errorf(ECONFLICT, "%s already accepts proposal %s%s; nothing to record", e.Party, Short(p.Proposal), how)
	}
	return p, nil
}

// acceptance is the position an acceptance records.
func acceptance(e ProposalAccepted, event int) Position {
	return Position{Stance: Accepts, Event: event, SubjectTo: slices.Clone(e.SubjectTo), AdReferendum: e.AdReferendum}
}

func (s *State) accept(e ProposalAccepted) error {
	p, err := s.checkAccept(e)
	if err != nil {
		return err
	}
	p.Positions.Set(e.Party, acceptance(e, s.Events+1))
	s.track(p)
	return s.settle()
}

func (s *State) checkObject(e ProposalObjected) (*Proposal, error) {
	p, err := s.positionable(e.Proposal, e.Party, "object to")
	if err != nil {
		return nil, err
	}
	if e.Party == p.Party {
		return nil, Errorf(EFORBIDDEN, "%s tabled proposal %s; to take it back, withdraw it", e.Party, Short(p.Proposal))
	}
	if p.Positions.Of(e.Party).Stance == Objects {
		return nil, Errorf(ECONFLICT, "%s already objects to proposal %s; nothing to record", e.Party, Short(p.Proposal))
	}
	if err := checkLine("reason", e.Reason); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *State) object(e ProposalObjected) error {
	p, err := s.checkObject(e)
	if err != nil {
		return err
	}
	p.Positions.Set(e.Party, Position{Stance: Objects, Reason: e.Reason, Event: s.Events + 1})
	s.track(p)
	return nil
}

func (s *State) checkWithdraw(e ProposalWithdrawn) (*Proposal, error) {
	actor, err := s.Participant(e.Party)
	if err != nil {
		return nil, err
	}
	p, err := s.openProposal(e.Proposal)
	if err != nil {
		return nil, err
	}
	if e.Party != p.Party {
		// What the actor may do instead depends on its role: a party
		// objects, an observer takes no position but may comment.
		advice := "; " + e.Party + " may object to it instead"
		if actor.Role != RoleParty {
			advice = "; " + e.Party + ", an observer, takes no position on it but may comment on it"
		}
		return nil, Errorf(EFORBIDDEN, "only %s, who tabled proposal %s, may withdraw it%s", p.Party, Short(p.Proposal), advice)
	}
	return p, nil
}

func (s *State) withdraw(e ProposalWithdrawn) error {
	p, err := s.checkWithdraw(e)
	if err != nil {
		return err
	}
	s.close(p, StatusWithdrawn)
	return s.lapse()
}

func (s *State) close(p *Proposal, st Status) {
	p.Status, p.Closed = st, s.Events+1
	s.track(p)
	if st == StatusAdopted {
		s.Adopted++
	} else {
		s.Withdrawn++
	}
	if s.Closed == nil {
		s.Closed = NewClosedProposals()
	}
	s.Closed.Add(ClosedProposal{ID: p.Proposal, Clause: p.Clause, Party: p.Party, Action: p.Action,
		Status: st, Tabled: p.Tabled, Round: p.Round, Closed: p.Closed})
	if s.OnClose != nil {
		s.OnClose(p)
	}
	if !s.KeepClosed {
		delete(s.Proposals, p.Proposal)
	}
	idx := s.index()
	ids := idx[p.Clause]
	if i := slices.Index(ids, p.Proposal); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(idx, p.Clause)
	} else {
		idx[p.Clause] = ids
	}
}

func (s *State) adopt(e ProposalAdopted) error {
	if len(s.due) == 0 || e.Proposal != s.due[0] {
		p, err := s.openProposal(e.Proposal)
		if err != nil {
			return err
		}
		if len(s.due) > 0 {
			return Errorf(ECONFLICT, "proposal %s adopted where %s was due first", Short(e.Proposal), Short(s.due[0]))
		}
		return Errorf(ECONFLICT, "proposal %s adopted without every party accepting it (awaiting %s)", Short(e.Proposal), strings.Join(s.Awaiting(p), ", "))
	}
	p := s.Proposals[e.Proposal]
	c := s.Clauses[p.Clause]
	if e.Clause != p.Clause || e.Revision != c.Revision+1 {
		return Errorf(ECONFLICT, "adoption of proposal %s names clause %s revision %d, but the proposal makes clause %s revision %d", Short(p.Proposal), e.Clause, e.Revision, p.Clause, c.Revision+1)
	}
	s.due = s.due[1:]
	var adRef []string
	for _, party := range s.Parties {
		if pos := p.Positions.Of(party.Code); pos.Stance == Accepts && pos.AdReferendum {
			adRef = append(adRef, party.Code)
		}
	}
	s.close(p, StatusAdopted)
	c.adopted(p, p.Closed)
	before := Restored{Text: c.Text, Heading: c.Heading, Deleted: c.Deleted}
	applyAdoption(c, p)
	if len(adRef) > 0 {
		c.AdRef, c.AdRefProposal, c.AdRefRevision, c.Restore = adRef, p.Proposal, c.Revision, &before
	}
	if !p.Placed && (p.After != "" || p.First) {
		s.place(p.Clause, p.After, p.First, false)
	}
	return s.lapse()
}

func (s *State) checkRevise(e ProposalRevised) (*Proposal, error) {
	if _, err := s.Participant(e.Party); err != nil {
		return nil, err
	}
	p, err := s.openProposal(e.Proposal)
	if err != nil {
		return nil, err
	}
	switch {
	case e.Party != p.Party:
		return nil, Errorf(EFORBIDDEN, "only %s, who tabled proposal %s, may revise it", p.Party, Short(p.Proposal))
	case s.Stale(p):
		return nil, Errorf(ESTALE, "proposal %s is stale: it is revised against a text the clause no longer has; rebase it onto the current text instead", Short(p.Proposal)).because(ReasonStale, p.Clause)
	case e.Version != p.Version+1:
		return nil, Errorf(ECONFLICT, "a revision numbered %d of proposal %s, which is at version %d", e.Version, Short(p.Proposal), p.Version)
	case p.Action == ActionDelete:
		return nil, Errorf(ECONFLICT, "proposal %s deletes its clause: there is no text to revise; withdraw it instead", Short(p.Proposal))
	case strings.TrimSpace(e.Text) == "":
		return nil, Errorf(EINVALID, "the revised text of proposal %s is empty", Short(p.Proposal))
	case e.Text == p.Text && headingOf(e.Heading) == headingOf(p.Heading) && e.Note == p.Note:
		return nil, Errorf(ECONFLICT, "the revision would change nothing in proposal %s", Short(p.Proposal))
	}
	if err := CheckText("text", e.Text, 0); err != nil {
		return nil, err
	}
	if e.Heading != nil {
		if err := checkLine("heading", *e.Heading); err != nil {
			return nil, err
		}
	}
	return p, checkLine("note", e.Note)
}

func headingOf(h *string) string {
	if h == nil {
		return "\x00none"
	}
	return *h
}

func (s *State) revise(e ProposalRevised) error {
	p, err := s.checkRevise(e)
	if err != nil {
		return err
	}
	now := s.Events + 1
	event := p.Tabled
	if p.Revised != 0 {
		event = p.Revised
	}
	p.Versions = append(p.Versions, Version{Version: p.Version, Text: p.Text, Heading: p.Heading, Note: p.Note, Event: event})
	p.Version, p.Text, p.Heading, p.Note, p.Revised = e.Version, e.Text, e.Heading, e.Note, now
	// The others accepted another text: they are asked again.
	p.Positions.Keep(func(party string) bool { return party == p.Party })
	if pos, ok := p.Positions.Lookup(p.Party); ok {
		pos.Event = now
		p.Positions.Set(p.Party, pos)
	}
	s.track(p)
	return s.settle()
}

func (s *State) checkComment(e ProposalCommented) error {
	if _, err := s.Participant(e.Party); err != nil {
		return err
	}
	if _, err := s.existing(e.Proposal); err != nil {
		return err
	}
	if strings.TrimSpace(e.Text) == "" {
		return Errorf(EINVALID, "the comment is empty")
	}
	if len(e.Text) > 4*maxLine {
		return Errorf(EINVALID, "the comment is %d bytes; the limit is %d", len(e.Text), 4*maxLine)
	}
	return checkChars("comment", e.Text, true)
}

func (s *State) comment(e ProposalCommented) error {
	if err := s.checkComment(e); err != nil {
		return err
	}
	if p, ok := s.Proposals[e.Proposal]; ok {
		p.Comments = append(p.Comments, Comment{Party: e.Party, Text: e.Text, Event: s.Events + 1})
	}
	return nil
}
