package domain

import (
	"fmt"
	"slices"
	"strings"
)

// The package: "nothing is agreed until everything is agreed". Until the
// text is concluded every agreed clause is agreed provisionally; conclusion
// records that the whole is agreed, and after it the parties initial the
// text, and make their reservations and declarations.

// Conclusion is when the whole text was agreed.
type Conclusion struct {
	// Event is the TextConcluded event; Head the hash of the event before
	// it, the text the parties initial.
	Event int
	Head  string
}

// Initial is a party's initials on the concluded text.
type Initial struct {
	Party string
	Event int
}

// Reservation is a party's reservation to a clause.
type Reservation struct {
	Party  string
	Clause string
	Text   string
	Event  int
}

// Declaration is a party's declaration on the text.
type Declaration struct {
	Party string
	Text  string
	Event int
}

// Obstacles lists what stands in the way of concluding the text: open
// proposals, adoptions ad referendum not yet confirmed, an open round.
func (s *State) Obstacles() []string {
	var out []string
	if s.Concluded != nil {
		return []string{fmt.Sprintf("the text is already concluded (event %d)", s.Concluded.Event)}
	}
	if n := s.OpenRound(); n != 0 {
		out = append(out, fmt.Sprintf("round %d is open", n))
	}
	var open []string
	for _, id := range s.Order {
		for _, p := range s.OpenProposals(id) {
			open = append(open, fmt.Sprintf("%s (%s, %s)", Short(p.Proposal), p.Party, p.Clause))
		}
	}
	if len(open) > 0 {
		out = append(out, fmt.Sprintf("%d proposals are open: %s", len(open), strings.Join(open, ", ")))
	}
	for _, id := range s.Order {
		if c := s.Clauses[id]; c != nil && len(c.AdRef) > 0 {
			out = append(out, fmt.Sprintf("clause %s is agreed ad referendum, awaiting the capital of %s", id, strings.Join(c.AdRef, ", ")))
		}
	}
	return out
}

func (s *State) checkConclude(e TextConcluded) error {
	if _, err := s.Participant(e.Party); err != nil {
		return err
	}
	if obstacles := s.Obstacles(); len(obstacles) > 0 {
		return Errorf(ECONFLICT, "the text cannot be concluded: %s", strings.Join(obstacles, "; "))
	}
	if len(s.Draft()) == 0 {
		return Errorf(ECONFLICT, "the text cannot be concluded: it has no agreed clause")
	}
	return nil
}

func (s *State) conclude(e TextConcluded) error {
	if err := s.checkConclude(e); err != nil {
		return err
	}
	s.Concluded = &Conclusion{Event: s.Events + 1, Head: e.Head}
	s.Reopening, s.Initials = nil, nil
	return nil
}

func (s *State) checkReopen(e ReopeningAgreed) error {
	party, err := s.Participant(e.Party)
	switch {
	case err != nil:
		return err
	case s.Concluded == nil:
		return Errorf(ECONFLICT, "the text is not concluded: there is nothing to reopen")
	case party.Role != RoleParty:
		return Errorf(EFORBIDDEN, "%s is an observer: the parties decide to reopen the text", e.Party)
	case slices.Contains(s.Reopening, e.Party):
		return Errorf(ECONFLICT, "%s already agreed to reopen the text", e.Party)
	}
	return nil
}

func (s *State) reopen(e ReopeningAgreed) error {
	if err := s.checkReopen(e); err != nil {
		return err
	}
	s.Reopening = append(s.Reopening, e.Party)
	for _, p := range s.Parties {
		if p.Role == RoleParty && !slices.Contains(s.Reopening, p.Code) {
			return nil
		}
	}
	s.Concluded, s.Reopening, s.Initials = nil, nil, nil
	return nil
}

// AwaitingReopening lists the parties that have not agreed to reopen the
// concluded text.
func (s *State) AwaitingReopening() []string {
	var out []string
	for _, p := range s.Parties {
		if p.Role == RoleParty && !slices.Contains(s.Reopening, p.Code) {
			out = append(out, p.Code)
		}
	}
	return out
}

func (s *State) initialled(party string) bool {
	return slices.ContainsFunc(s.Initials, func(i Initial) bool { return i.Party == party })
}

// party checks that code is a party (not an observer) acting on the text.
func (s *State) party(code, what string) error {
	p, err := s.Participant(code)
	if err != nil {
		return err
	}
	if p.Role != RoleParty {
		return Errorf(EFORBIDDEN, "%s is an observer: only the parties %s", code, what)
	}
	return nil
}

func (s *State) checkInitial(e TextInitialled) error {
	if err := s.party(e.Party, "initial the text"); err != nil {
		return err
	}
	switch {
	case s.Concluded == nil:
		return Errorf(ECONFLICT, "the text is not concluded: it is initialled once the whole is agreed").because(ReasonNotConcluded, "")
	case s.initialled(e.Party):
		return Errorf(ECONFLICT, "%s already initialled the text", e.Party)
	case e.Head != s.Concluded.Head:
		return Errorf(ECONFLICT, "the initials cite head %s, but the text concluded at event %d has head %s", ShortHash(e.Head), s.Concluded.Event, ShortHash(s.Concluded.Head))
	}
	return nil
}

func (s *State) initial(e TextInitialled) error {
	if err := s.checkInitial(e); err != nil {
		return err
	}
	s.Initials = append(s.Initials, Initial{Party: e.Party, Event: s.Events + 1})
	return nil
}

// checkAddition checks a reservation or declaration by party: a party's,
// before it initials, of a one-paragraph text.
func (s *State) checkAddition(party, what, text string) error {
	if err := s.party(party, "make "+what+"s"); err != nil {
		return err
	}
	if s.initialled(party) {
		return Errorf(ECONFLICT, "%s initialled the text already: a %s is made before", party, what)
	}
	if strings.TrimSpace(text) == "" {
		return Errorf(EINVALID, "the %s is empty", what)
	}
	return CheckText(what, text, 0)
}

func (s *State) checkReserve(e ReservationMade) error {
	if err := s.checkAddition(e.Party, "reservation", e.Text); err != nil {
		return err
	}
	if c := s.Clauses[e.Clause]; c == nil || !c.Agreed() {
		return Errorf(ENOTFOUND, "clause %s has no agreed text to make a reservation to", e.Clause)
	}
	return nil
}

func (s *State) reserve(e ReservationMade) error {
	if err := s.checkReserve(e); err != nil {
		return err
	}
	s.Reservations = append(s.Reservations, Reservation{Party: e.Party, Clause: e.Clause, Text: e.Text, Event: s.Events + 1})
	return nil
}

func (s *State) declare(e DeclarationMade) error {
	if err := s.checkAddition(e.Party, "declaration", e.Text); err != nil {
		return err
	}
	s.Declarations = append(s.Declarations, Declaration{Party: e.Party, Text: e.Text, Event: s.Events + 1})
	return nil
}

// Ad referendum: a party may accept subject to its capital. The text then
// enters the draft as agreed ad referendum until the capital confirms it;
// a capital that declines restores the text the clause had before.

// adRefClause finds the clause whose ad referendum adoption of proposal id
// awaits party's capital.
func (s *State) adRefClause(id, party string) (*Clause, error) {
	if _, err := s.Participant(party); err != nil {
		return nil, err
	}
	for _, c := range s.Clauses {
		if c.AdRefProposal == id && slices.Contains(c.AdRef, party) {
			return c, nil
		}
	}
	if _, err := s.existing(id); err != nil {
		return nil, err
	}
	return nil, Errorf(ECONFLICT, "nothing of proposal %s awaits the capital of %s: it was not adopted ad referendum by %s, or was confirmed or declined already", Short(id), party, party)
}

func (s *State) confirm(e AdoptionConfirmed) error {
	c, err := s.adRefClause(e.Proposal, e.Party)
	if err != nil {
		return err
	}
	c.AdRef = slices.DeleteFunc(slices.Clone(c.AdRef), func(p string) bool { return p == e.Party })
	if len(c.AdRef) == 0 {
		c.AdRef, c.AdRefProposal, c.AdRefRevision, c.Restore = nil, "", 0, nil
	}
	return nil
}

func (s *State) checkDecline(e AdoptionDeclined) (*Clause, error) {
	c, err := s.adRefClause(e.Proposal, e.Party)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Revision != c.AdRefRevision:
		return nil, Errorf(ECONFLICT, "clause %s was amended again since proposal %s was adopted ad referendum (it is at revision %d): declining would undo more than that proposal; table the text instead", c.ID, Short(e.Proposal), c.Revision)
	case e.Clause != c.ID || e.Revision != c.Revision+1:
		return nil, Errorf(ECONFLICT, "the decline names clause %s revision %d, but it makes clause %s revision %d", e.Clause, e.Revision, c.ID, c.Revision+1)
	}
	return c, nil
}

func (s *State) decline(e AdoptionDeclined) error {
	c, err := s.checkDecline(e)
	if err != nil {
		return err
	}
	r := c.Restore
	c.Revision++
	c.Text, c.Heading, c.Deleted = r.Text, r.Heading, r.Deleted
	c.AdRef, c.AdRefProposal, c.AdRefRevision, c.Restore = nil, "", 0, nil
	return s.lapse()
}
