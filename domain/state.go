package domain

import (
	"crypto/ed25519"
	"slices"
	"sort"
	"strings"
)

// State is what the events of one negotiation add up to: its parties, rounds,
// clauses in draft order and every proposal with the parties' positions. It is
// built only by Evolve, one event at a time; Decide reads it.
//
// The zero State is a negotiation before its TreatyOpened event.
type State struct {
	Treaty  string
	Title   string
	Parties []Party
	// Events is the number of events folded in; the next event is number
	// Events+1.
	Events int
	Rounds []Round
	// Order lists every clause that ever took a place, in draft order,
	// including clauses that are not in the draft now (deleted, or whose
	// proposals were all withdrawn).
	Order   []string
	Clauses map[string]*Clause
	// Keys holds each participant's current public signing key (see
	// PartyKeyRegistered), base64; a participant without one acts unsigned.
	Keys map[string]string
	// Tabled, Adopted and Withdrawn count the proposals tabled, adopted
	// and withdrawn so far: the difference between two states says what
	// happened between them without looking at any proposal.
	Tabled, Adopted, Withdrawn int
	// Proposals holds the open proposals, stale ones included. Closed
	// (adopted or withdrawn) proposals leave it for a compact record that
	// keeps their fate but not their text, so that the state stays the size
	// of the negotiation's present, not of its history; with KeepClosed
	// they stay here whole as well.
	Proposals map[string]*Proposal
	// KeepClosed keeps closed proposals whole in Proposals, for views of
	// the whole history. Set it before the first Evolve.
	KeepClosed bool
	closed     closedSet
	// pending is the proposal whose unanimity the last event completed: the
	// next event must adopt it.
	pending string
	// byClause indexes the open proposals of each clause, in tabling order.
	byClause map[string][]string
}

// Round is one numbered round of talks. Opened and Closed are the event
// numbers of its RoundOpened and RoundClosed events (Closed is 0 while the
// round is open).
type Round struct {
	Number int
	Name   string
	Opened int
	Closed int
}

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
}

// Agreed reports whether the clause has agreed text.
func (c *Clause) Agreed() bool { return c.Revision > 0 && !c.Deleted }

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
)

// Position is a party's latest position on a proposal.
type Position struct {
	Stance Stance
	Reason string
	// Event is the number of the event that recorded it.
	Event int
}

// Proposal is a tabled proposal and where it stands.
type Proposal struct {
	ProposalTabled
	// Tabled is the number of the ProposalTabled event; Round the round it
	// was tabled in (0 between rounds).
	Tabled int
	Round  int
	Status Status
	// Closed is the number of the event that adopted or withdrew it.
	Closed int
	// Positions holds each party's latest position; observers have none.
	Positions map[string]Position
	// Placed reports that the clause took its place in the draft when this
	// proposal was tabled, so adopting it moves nothing.
	Placed bool
}

// ClosedProposal is what the state keeps of an adopted or withdrawn
// proposal.
type ClosedProposal struct {
	ID     string
	Clause string
	Party  string
	Action Action
	Status Status
	// Tabled, Round and Closed: the event and round it was tabled in, and
	// the event that adopted or withdrew it.
	Tabled int
	Round  int
	Closed int
}

// Proposal returns proposal id, open or closed. A closed proposal comes back
// as its compact record (no text, no positions) unless the state keeps
// closed proposals whole.
func (s *State) Proposal(id string) (*Proposal, bool) {
	if p, ok := s.Proposals[id]; ok {
		return p, true
	}
	if c, ok := s.closed.get(id); ok {
		return c.proposal(), true
	}
	return nil, false
}

func (c ClosedProposal) proposal() *Proposal {
	return &Proposal{ProposalTabled: ProposalTabled{Proposal: c.ID, Clause: c.Clause, Party: c.Party, Action: c.Action},
		Tabled: c.Tabled, Round: c.Round, Status: c.Status, Closed: c.Closed}
}

// AllProposals yields every proposal ever tabled, in no particular order:
// open ones whole, closed ones as Proposal does.
func (s *State) AllProposals() func(yield func(*Proposal) bool) {
	return func(yield func(*Proposal) bool) {
		for _, p := range s.Proposals {
			if !yield(p) {
				return
			}
		}
		if s.KeepClosed {
			return
		}
		for c := range s.closed.each {
			if !yield(c.proposal()) {
				return
			}
		}
	}
}

// ClosedProposals yields what the state keeps of every closed proposal, in
// no particular order, without building a Proposal for each: the cheap way
// over a long history.
func (s *State) ClosedProposals() func(yield func(ClosedProposal) bool) {
	return s.closed.each
}

// Party returns the participant with the given code.
func (s *State) Party(code string) (Party, bool) {
	for _, p := range s.Parties {
		if p.Code == code {
			return p, true
		}
	}
	return Party{}, false
}

// OpenRound returns the number of the open round, or 0 when none is open.
func (s *State) OpenRound() int {
	if n := len(s.Rounds); n > 0 && s.Rounds[n-1].Closed == 0 {
		return s.Rounds[n-1].Number
	}
	return 0
}

// RoundOf returns the round an event belongs to when it is appended to s: the
// round it opens, else the open round (a RoundClosed belongs to the round it
// closes), else 0.
func (s *State) RoundOf(e Event) int {
	if r, ok := e.(RoundOpened); ok {
		return r.Round
	}
	return s.OpenRound()
}

// Stale reports whether an open proposal was drafted against a revision of
// its clause that an adopted proposal has since replaced.
func (s *State) Stale(p *Proposal) bool {
	c := s.Clauses[p.Clause]
	return p.Status == StatusOpen && c != nil && p.BaseRevision < c.Revision
}

// OpenProposals returns the open proposals on a clause, stale ones included,
// in the order they were tabled.
func (s *State) OpenProposals(clause string) []*Proposal {
	ids := s.byClause[clause]
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
	return c != nil && (c.Agreed() || len(s.byClause[clause]) > 0)
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

// AcceptedBy and ObjectedBy list the parties whose latest position on p is
// acceptance or objection, in the order the parties were listed when the
// negotiation opened.
func (s *State) AcceptedBy(p *Proposal) []string { return s.withStance(p, Accepts) }

// ObjectedBy: see AcceptedBy.
func (s *State) ObjectedBy(p *Proposal) []string { return s.withStance(p, Objects) }

func (s *State) withStance(p *Proposal, st Stance) []string {
	var codes []string
	for _, party := range s.Parties {
		if pos, ok := p.Positions[party.Code]; ok && pos.Stance == st {
			codes = append(codes, party.Code)
		}
	}
	return codes
}

// Awaiting lists the parties whose acceptance p still needs.
func (s *State) Awaiting(p *Proposal) []string {
	var codes []string
	for _, party := range s.Parties {
		if party.Role == RoleParty && p.Positions[party.Code].Stance != Accepts {
			codes = append(codes, party.Code)
		}
	}
	return codes
}

// FindOpenProposal resolves ref as FindProposal does, for commands that act
// on an open proposal: a prefix that exactly one open proposal has names
// it, even if closed proposals share the prefix (as git, when it needs a
// commit, picks the commit among objects that share an abbreviation). Only
// a ref that no open proposal matches is looked up among the closed ones,
// so that the refusal can say what became of it. A long negotiation closes
// hundreds of thousands of proposals: this spares reading them all for
// every position a party takes.
func (s *State) FindOpenProposal(ref string) (*Proposal, error) {
	ref = strings.ToLower(ref)
	if p, ok := s.Proposals[ref]; ok {
		return p, nil
	}
	var found *Proposal
	if len(ref) >= 4 {
		for id, p := range s.Proposals {
			if !strings.HasPrefix(id, ref) || p.Status != StatusOpen {
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
// characters, case-insensitive).
//
// A closed proposal comes back as Proposal returns it.
func (s *State) FindProposal(ref string) (*Proposal, error) {
	ref = strings.ToLower(ref)
	if p, ok := s.Proposal(ref); ok {
		return p, nil
	}
	if len(ref) < 4 {
		return nil, Errorf(EINVALID, "proposal %q: give at least 4 characters of the proposal ID", ref)
	}
	var found []string
	for id := range s.Proposals {
		if strings.HasPrefix(id, ref) {
			found = append(found, id)
		}
	}
	if !s.KeepClosed {
		found = append(found, s.closed.withPrefix(ref)...)
	}
	if s.closed.err != nil {
		return nil, s.closed.err
	}
	switch len(found) {
	case 0:
		return nil, Errorf(ENOTFOUND, "no proposal %q in %s; `treaty proposals --all` lists them", ref, s.Treaty)
	case 1:
		p, _ := s.Proposal(found[0])
		return p, nil
	}
	sort.Strings(found)
	if len(found) > 5 {
		found = append(found[:5], "…")
	}
	return nil, Errorf(EINVALID, "proposal prefix %q is ambiguous: it matches %s; give more characters", ref, strings.Join(found, ", "))
}

// Evolve folds one event into the state. It checks the event against the
// rules as they stood when it was appended and refuses one that breaks them,
// leaving the state unchanged: a log written by Decide always folds, and a
// log that does not fold was not written by the rules.
func (s *State) Evolve(e Event) error {
	if s.closed.err != nil {
		return s.closed.err
	}
	if s.pending != "" {
		if a, ok := e.(ProposalAdopted); !ok || a.Proposal != s.pending {
			return Errorf(ECONFLICT, "every party had accepted proposal %s, but the next event (%s) does not adopt it", Short(s.pending), e.EventType())
		}
	}
	if _, ok := e.(TreatyOpened); !ok && s.Treaty == "" {
		return Errorf(ECONFLICT, "%s before TreatyOpened: a negotiation's first event opens it", e.EventType())
	}
	var err error
	switch e := e.(type) {
	case TreatyOpened:
		err = s.openTreaty(e)
	case RoundOpened:
		err = s.openRound(e)
	case RoundClosed:
		err = s.closeRound(e)
	case ProposalTabled:
		err = s.table(e)
	case ProposalAccepted:
		err = s.accept(e)
	case ProposalObjected:
		err = s.object(e)
	case ProposalWithdrawn:
		err = s.withdraw(e)
	case ProposalAdopted:
		err = s.adopt(e)
	case PartyKeyRegistered:
		err = s.registerKey(e)
	default:
		err = &ErrUnknownEventType{Type: e.EventType()}
	}
	if err == nil {
		err = s.closed.err // a rule may have needed what could not be read
	}
	if err == nil {
		s.Events++
	}
	return err
}

// Pending reports a proposal whose unanimity the last event completed but
// which is not adopted yet; a complete log never ends with one.
func (s *State) Pending() string { return s.pending }

func (s *State) openTreaty(e TreatyOpened) error {
	if s.Treaty != "" {
		return Errorf(ECONFLICT, "negotiation %s is already open", s.Treaty)
	}
	if err := checkOpening(e); err != nil {
		return err
	}
	s.Treaty, s.Title = e.Treaty, e.Title
	s.Parties = slices.Clone(e.Parties)
	s.Clauses = map[string]*Clause{}
	s.Proposals = map[string]*Proposal{}
	s.byClause = map[string][]string{}
	return nil
}

func checkOpening(e TreatyOpened) error {
	if err := CheckSlug("treaty ID", e.Treaty); err != nil {
		return err
	}
	if strings.TrimSpace(e.Title) == "" {
		return Errorf(EINVALID, "the negotiation needs a title (--title)")
	}
	if err := checkLine("title", e.Title); err != nil {
		return err
	}
	seen := map[string]bool{}
	parties := 0
	for _, p := range e.Parties {
		if err := CheckSlug("party code", p.Code); err != nil {
			return err
		}
		if seen[p.Code] {
			return Errorf(EINVALID, "party %s is listed twice", p.Code)
		}
		seen[p.Code] = true
		if err := checkLine("name of "+p.Code, p.Name); err != nil {
			return err
		}
		switch p.Role {
		case RoleParty:
			parties++
		case RoleObserver:
		default:
			return Errorf(EINVALID, "party %s has role %q; a role is %q or %q", p.Code, p.Role, RoleParty, RoleObserver)
		}
	}
	if parties == 0 {
		return Errorf(EINVALID, "a negotiation needs at least one party (--party CODE=NAME)")
	}
	return nil
}

// participant checks that code may act in the negotiation at all.
func (s *State) participant(code string) (Party, error) {
	if code == "" {
		return Party{}, Errorf(EINVALID, "no acting party: say who acts with --as CODE (one of %s)", s.codes())
	}
	p, ok := s.Party(code)
	if !ok {
		return p, Errorf(EFORBIDDEN, "%s is not a participant in %s; the participants are %s", code, s.Treaty, s.codes())
	}
	return p, nil
}

func (s *State) codes() string {
	cs := make([]string, len(s.Parties))
	for i, p := range s.Parties {
		cs[i] = p.Code
	}
	return strings.Join(cs, ", ")
}

func (s *State) checkOpenRound(e RoundOpened) error {
	if n := s.OpenRound(); n != 0 {
		return Errorf(ECONFLICT, "round %d is still open; close it with `treaty round close` before opening round %d", n, n+1)
	}
	if want := len(s.Rounds) + 1; e.Round != want {
		return Errorf(ECONFLICT, "round %d opened where round %d was next", e.Round, want)
	}
	return checkLine("round name", e.Name)
}

func (s *State) openRound(e RoundOpened) error {
	if err := s.checkOpenRound(e); err != nil {
		return err
	}
	s.Rounds = append(s.Rounds, Round{Number: e.Round, Name: e.Name, Opened: s.Events + 1})
	return nil
}

func (s *State) checkCloseRound(e RoundClosed) error {
	n := s.OpenRound()
	if n == 0 {
		return Errorf(ECONFLICT, "no round is open; open one with `treaty round open`")
	}
	if e.Round != n {
		return Errorf(ECONFLICT, "round %d closed while round %d was open", e.Round, n)
	}
	return nil
}

func (s *State) closeRound(e RoundClosed) error {
	if err := s.checkCloseRound(e); err != nil {
		return err
	}
	s.Rounds[len(s.Rounds)-1].Closed = s.Events + 1
	return nil
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

func (s *State) checkTable(e ProposalTabled) error {
	if err := CheckSlug("proposal ID", e.Proposal); err != nil {
		return err
	}
	if _, dup := s.Proposal(e.Proposal); dup {
		return Errorf(ECONFLICT, "proposal ID %s is already taken", e.Proposal)
	}
	if err := CheckSlug("clause ID", e.Clause); err != nil {
		return err
	}
	if _, err := s.participant(e.Party); err != nil {
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
		return Errorf(EINVALID, "the proposed text of clause %s is empty; to remove the clause propose --delete", e.Clause)
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
	s.Tabled++
	p := &Proposal{ProposalTabled: e, Tabled: s.Events + 1, Round: s.OpenRound(), Status: StatusOpen, Positions: map[string]Position{}}
	if !s.InDraft(e.Clause) {
		// A clause entering the draft takes its place now, brackets and all.
		s.place(e.Clause, e.After, e.First, true)
		p.Placed = true
	}
	s.Proposals[e.Proposal] = p
	s.byClause[e.Clause] = append(s.byClause[e.Clause], e.Proposal)
	if party, _ := s.Party(e.Party); party.Role == RoleParty {
		p.Positions[e.Party] = Position{Stance: Accepts, Event: s.Events + 1}
	}
	s.checkUnanimity(p)
	return nil
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

// checkUnanimity marks p for adoption when every party accepts it.
func (s *State) checkUnanimity(p *Proposal) {
	if len(s.Awaiting(p)) == 0 {
		s.pending = p.Proposal
	}
}

// openProposal finds a proposal that a party takes a position on and checks
// that a position can still be taken.
func (s *State) positionable(id, code, verb string) (*Proposal, error) {
	party, err := s.participant(code)
	if err != nil {
		return nil, err
	}
	p, ok := s.Proposal(id)
	if !ok {
		return nil, Errorf(ENOTFOUND, "no proposal %s in %s", id, s.Treaty)
	}
	if party.Role != RoleParty {
		return nil, Errorf(EFORBIDDEN, "%s is an observer: observers table and withdraw proposals but do not %s them", code, verb)
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
		return nil, Errorf(ESTALE, "proposal %s is stale: it was drafted against revision %d of clause %s, and another proposal has since been adopted. The clause %s (revision %d). Table a new proposal against the current text: treaty propose --clause %s", Short(p.Proposal), p.BaseRevision, p.Clause, now, c.Revision, p.Clause)
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
	if p.Positions[e.Party].Stance == Accepts {
		return nil, Errorf(ECONFLICT, "%s already accepts proposal %s; nothing to record", e.Party, Short(p.Proposal))
	}
	return p, nil
}

func (s *State) accept(e ProposalAccepted) error {
	p, err := s.checkAccept(e)
	if err != nil {
		return err
	}
	p.Positions[e.Party] = Position{Stance: Accepts, Event: s.Events + 1}
	s.checkUnanimity(p)
	return nil
}

func (s *State) checkObject(e ProposalObjected) (*Proposal, error) {
	p, err := s.positionable(e.Proposal, e.Party, "object to")
	if err != nil {
		return nil, err
	}
	if e.Party == p.Party {
		return nil, Errorf(EFORBIDDEN, "%s tabled proposal %s; to take it back, withdraw it", e.Party, Short(p.Proposal))
	}
	if p.Positions[e.Party].Stance == Objects {
		return nil, Errorf(ECONFLICT, "%s already objects to proposal %s; nothing to record", e.Party, Short(p.Proposal))
	}
	return p, checkLine("reason", e.Reason)
}

func (s *State) object(e ProposalObjected) error {
	p, err := s.checkObject(e)
	if err != nil {
		return err
	}
	p.Positions[e.Party] = Position{Stance: Objects, Reason: e.Reason, Event: s.Events + 1}
	return nil
}

func (s *State) checkWithdraw(e ProposalWithdrawn) (*Proposal, error) {
	if _, err := s.participant(e.Party); err != nil {
		return nil, err
	}
	p, ok := s.Proposal(e.Proposal)
	if !ok {
		return nil, Errorf(ENOTFOUND, "no proposal %s in %s", e.Proposal, s.Treaty)
	}
	if err := s.checkOpen(p); err != nil {
		return nil, err
	}
	if e.Party != p.Party {
		return nil, Errorf(EFORBIDDEN, "only %s, who tabled proposal %s, may withdraw it; %s may object to it instead", p.Party, Short(p.Proposal), e.Party)
	}
	return p, nil
}

func (s *State) withdraw(e ProposalWithdrawn) error {
	p, err := s.checkWithdraw(e)
	if err != nil {
		return err
	}
	s.close(p, StatusWithdrawn)
	return nil
}

func (s *State) close(p *Proposal, st Status) {
	p.Status, p.Closed = st, s.Events+1
	if st == StatusAdopted {
		s.Adopted++
	} else {
		s.Withdrawn++
	}
	s.closed.add(ClosedProposal{ID: p.Proposal, Clause: p.Clause, Party: p.Party, Action: p.Action,
		Status: st, Tabled: p.Tabled, Round: p.Round, Closed: p.Closed})
	if !s.KeepClosed {
		delete(s.Proposals, p.Proposal)
	}
	ids := s.byClause[p.Clause]
	if i := slices.Index(ids, p.Proposal); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		delete(s.byClause, p.Clause)
	} else {
		s.byClause[p.Clause] = ids
	}
}

func (s *State) adopt(e ProposalAdopted) error {
	if s.pending == "" || e.Proposal != s.pending {
		p, ok := s.Proposal(e.Proposal)
		if !ok {
			return Errorf(ENOTFOUND, "no proposal %s in %s", e.Proposal, s.Treaty)
		}
		if err := s.checkOpen(p); err != nil {
			return err
		}
		return Errorf(ECONFLICT, "proposal %s adopted without every party accepting it (awaiting %s)", Short(e.Proposal), strings.Join(s.Awaiting(p), ", "))
	}
	p := s.Proposals[e.Proposal]
	c := s.Clauses[p.Clause]
	if e.Clause != p.Clause || e.Revision != c.Revision+1 {
		return Errorf(ECONFLICT, "adoption of proposal %s names clause %s revision %d, but the proposal makes clause %s revision %d", Short(p.Proposal), e.Clause, e.Revision, p.Clause, c.Revision+1)
	}
	s.pending = ""
	s.close(p, StatusAdopted)
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
	if !p.Placed && (p.After != "" || p.First) {
		s.place(p.Clause, p.After, p.First, false)
	}
	return nil
}

// KeyOf returns the participant's current public key and its ID, if it has
// registered one.
func (s *State) KeyOf(party string) (ed25519.PublicKey, string, bool) {
	k, ok := s.Keys[party]
	if !ok {
		return nil, "", false
	}
	pub, err := ParseKey(k)
	if err != nil {
		return nil, "", false
	}
	return pub, KeyID(pub), true
}

func (s *State) checkRegisterKey(e PartyKeyRegistered) error {
	if _, err := s.participant(e.Party); err != nil {
		return err
	}
	pub, err := ParseKey(e.Key)
	if err != nil {
		return err
	}
	_, current, has := s.KeyOf(e.Party)
	switch {
	case has && current == KeyID(pub):
		return Errorf(ECONFLICT, "key %s is already %s's key", current, e.Party)
	case has && e.Previous != current:
		return Errorf(ECONFLICT, "a new key for %s must name the key it replaces (%s), not %q", e.Party, current, e.Previous)
	case !has && e.Previous != "":
		return Errorf(ECONFLICT, "%s has no key to replace, but the registration names %q", e.Party, e.Previous)
	}
	return nil
}

func (s *State) registerKey(e PartyKeyRegistered) error {
	if err := s.checkRegisterKey(e); err != nil {
		return err
	}
	if s.Keys == nil {
		s.Keys = map[string]string{}
	}
	s.Keys[e.Party] = e.Key
	return nil
}
