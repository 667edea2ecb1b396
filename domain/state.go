package domain

import (
	"slices"
	"strings"
)

// State is what the events of one negotiation add up to: its parties, rounds,
// clauses in draft order and every proposal with the parties' positions. It
// is plain data, built only by Evolve, one event at a time; Decide reads it.
// Whoever restores a State from elsewhere (a checkpoint) fills in the
// exported fields; the unexported ones are indexes rebuilt on demand.
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
	// Keys holds every signing key participants registered or had pinned,
	// by key ID, with where each stands (see Key).
	Keys map[string]*Key
	// Tabled, Adopted and Withdrawn count the proposals tabled, adopted
	// and withdrawn so far: the difference between two states says what
	// happened between them without looking at any proposal.
	Tabled, Adopted, Withdrawn int
	// Proposals holds the open proposals, stale ones included. A proposal
	// that closes (adopted or withdrawn) leaves it for Closed, which keeps
	// its fate but not its text; with KeepClosed it stays here whole too.
	Proposals map[string]*Proposal
	// KeepClosed keeps closed proposals whole in Proposals, for views of
	// the whole history. Set it before the first Evolve.
	KeepClosed bool
	// Closed records every closed proposal; nil until the first one closes
	// (an in-memory record is made then, see NewClosedProposals).
	Closed ClosedProposals
	// OnClose, when set, is called with the whole proposal as it closes
	// (adopted or withdrawn; its Status and Closed already say so), once
	// per proposal, before a state without KeepClosed drops its text: the
	// way for a view of every proposal to see each whole without keeping
	// them all. It must not change the proposal or the state.
	OnClose func(p *Proposal) `json:"-"`

	// Concluded, once the whole text is agreed (TextConcluded), says when;
	// nil before, and again once every party agreed to reopen it.
	Concluded *Conclusion
	// Reopening lists the parties that agreed to reopen the concluded
	// text; Initials, Reservations and Declarations what the parties
	// added to it.
	Reopening    []string
	Initials     []Initial
	Reservations []Reservation
	Declarations []Declaration

	// due are the proposals whose adoption the last event completed, in
	// order: the next events must adopt them. A state worth keeping has
	// none.
	due []string
	// byClause indexes the open proposals of each clause, in tabling
	// order; nil until first needed.
	byClause map[string][]string
	// ready and linked index the proposals linkage looks at (see
	// candidates); nil until first needed.
	ready, linked map[string]struct{}
}

// Evolve folds one event into the state. It checks the event against the
// rules as they stood when it was appended and refuses one that breaks them,
// leaving the state unchanged: a log written by Decide always folds, and a
// log that does not fold was not written by the rules.
func (s *State) Evolve(e Event) error {
	if len(s.due) > 0 {
		if _, ok := e.(ProposalAdopted); !ok {
			return Errorf(ECONFLICT, "every party had accepted proposal %s, but the next event (%s) does not adopt it", Short(s.due[0]), e.EventType())
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
	case KeyEndorsed:
		err = s.endorse(e)
	case KeyRevoked:
		err = s.revoke(e)
	case ProposalRevised:
		err = s.revise(e)
	case ProposalCommented:
		err = s.comment(e)
	case AdoptionConfirmed:
		err = s.confirm(e)
	case AdoptionDeclined:
		err = s.decline(e)
	case TextConcluded:
		err = s.conclude(e)
	case ReopeningAgreed:
		err = s.reopen(e)
	case TextInitialled:
		err = s.initial(e)
	case ReservationMade:
		err = s.reserve(e)
	case DeclarationMade:
		err = s.declare(e)
	default:
		err = &ErrUnknownEventType{Type: e.EventType()}
	}
	if err == nil {
		s.Events++
	}
	return err
}

// Due reports the first proposal whose adoption the last event completed
// but which is not adopted yet ("" when none is); a complete log never ends
// with one.
func (s *State) Due() string {
	if len(s.due) == 0 {
		return ""
	}
	return s.due[0]
}

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
	s.pin(e)
	return nil
}

func checkOpening(e TreatyOpened) error {
	if err := CheckSlug("treaty ID", e.Treaty); err != nil {
		return err
	}
	if strings.TrimSpace(e.Title) == "" {
		return Errorf(EINVALID, "the negotiation needs a title")
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
		return Errorf(EINVALID, "a negotiation needs at least one party; observers alone cannot agree a text")
	}
	return checkPins(e)
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

// Participant checks that code may act in the negotiation at all: the
// refusal of every act by a code that is not one of its participants.
func (s *State) Participant(code string) (Party, error) {
	if code == "" {
		return Party{}, Errorf(EINVALID, "no acting participant: an act must name one of %s", s.codes()).because(ReasonNoActor, "")
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
