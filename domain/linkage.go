package domain

import (
	"fmt"
	"slices"
	"sort"
)

// Linkage: a party may accept a proposal subject to others ("we accept this
// if that is agreed"). Such an acceptance counts once every proposal it is
// subject to is adopted, or is adopted in the same append. Proposals whose
// acceptances depend on one another form a package: once every acceptance
// in it is given, they are adopted together, in one append, or none is.
// A cycle is a package, not a deadlock.

// override is what an act about to be decided would record: party's
// position pos on proposal, or a proposal about to be tabled (extra). The
// linkage rules read positions through it (positionOf), so that Decide can
// work out the adoptions an act completes without changing the state.
type override struct {
	proposal, party string
	pos             Position
	extra           *Proposal // a proposal about to be tabled
}

func (o *override) positionOf(p *Proposal, party string) Position {
	if o != nil && o.proposal == p.Proposal && o.party == party {
		return o.pos
	}
	return p.Positions.Of(party)
}

// fullyAccepted reports whether every party accepts p (with or without
// conditions).
func (s *State) fullyAccepted(p *Proposal, o *override) bool {
	for _, party := range s.Parties {
		if party.Role == RoleParty && o.positionOf(p, party.Code).Stance != Accepts {
			return false
		}
	}
	return true
}

// adoptable returns the proposals to adopt now, in the order of their
// adoption events (their tabling): the greatest set of open proposals, none
// stale, each accepted by every party, whose acceptances' conditions are
// all adopted already or in the set, at most one per clause (the first
// tabled: adopting it makes the others on the clause stale).
func (s *State) adoptable(o *override) ([]*Proposal, error) {
	set := map[string]*Proposal{}
	consider := func(p *Proposal) {
		if p.Status == StatusOpen && !s.Stale(p) && s.fullyAccepted(p, o) {
			set[p.Proposal] = p
		}
	}
	for id := range s.candidates() {
		consider(s.Proposals[id])
	}
	if o != nil {
		if p := s.Proposals[o.proposal]; p != nil {
			consider(p)
		}
		if o.extra != nil {
			consider(o.extra)
		}
	}
	adopted := map[string]bool{}
	for changed := true; changed && len(set) > 0; {
		changed = false
		for id, p := range set {
			keep, err := s.conditionsMet(p, o, set, adopted)
			if err != nil {
				return nil, err
			}
			if keep {
				for other, q := range set {
					if other != id && q.Clause == p.Clause && q.Tabled < p.Tabled {
						keep = false
						break
					}
				}
			}
			if !keep {
				delete(set, id)
				changed = true
			}
		}
	}
	out := make([]*Proposal, 0, len(set))
	for _, p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Tabled < out[j].Tabled })
	return out, nil
}

// conditionsMet reports whether every condition of every acceptance of p is
// adopted or in set. adopted caches lookups of closed proposals.
func (s *State) conditionsMet(p *Proposal, o *override, set map[string]*Proposal, adopted map[string]bool) (bool, error) {
	for _, party := range s.Parties {
		for _, q := range o.positionOf(p, party.Code).SubjectTo {
			if set[q] != nil {
				continue
			}
			done, ok := adopted[q]
			if !ok {
				qp, found, err := s.LookupProposal(q)
				if err != nil {
					return false, err
				}
				done = found && qp.Status == StatusAdopted
				adopted[q] = done
			}
			if !done {
				return false, nil
			}
		}
	}
	return true, nil
}

// settle records the adoptions now due (see adoptable): the next events
// must adopt them, in order.
func (s *State) settle() error {
	ps, err := s.adoptable(nil)
	if err != nil {
		return err
	}
	s.due = s.due[:0]
	for _, p := range ps {
		s.due = append(s.due, p.Proposal)
	}
	return nil
}

// adoptions returns the adoption events that follow an act given the
// position o it records: the package it completes, if any.
func (s *State) adoptions(o *override) ([]Event, error) {
	ps, err := s.adoptable(o)
	if err != nil {
		return nil, err
	}
	evs := make([]Event, len(ps))
	for i, p := range ps {
		evs[i] = s.adoption(p)
	}
	return evs, nil
}

// lapse ends the conditional acceptances that can no longer be met: those
// subject to a proposal withdrawn, or gone stale.
func (s *State) lapse() error {
	linked := s.conditioned()
	if len(linked) == 0 {
		return nil
	}
	ids := make([]string, 0, len(linked))
	for id := range linked {
		ids = append(ids, id)
	}
	for _, id := range ids {
		p := s.Proposals[id]
		for _, pp := range p.Positions {
			party, pos := pp.Party, pp.Position
			if pos.Stance != Accepts || len(pos.SubjectTo) == 0 {
				continue
			}
			for _, q := range pos.SubjectTo {
				why, err := s.unmeetable(q)
				if err != nil {
					return err
				}
				if why != "" {
					p.Positions.Set(party, Position{Stance: Lapsed, Event: pos.Event, SubjectTo: pos.SubjectTo,
						Reason: fmt.Sprintf("its acceptance subject to %s lapsed: %s", Short(q), why)})
					s.track(p)
					break
				}
			}
		}
	}
	return nil
}

// unmeetable says why a condition on proposal q can no longer be met, or
// "" when it can.
func (s *State) unmeetable(q string) (string, error) {
	p, ok, err := s.LookupProposal(q)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "it no longer exists", nil
	case p.Status == StatusWithdrawn:
		return fmt.Sprintf("%s was withdrawn (event %d)", Short(q), p.Closed), nil
	case p.Status == StatusOpen && s.Stale(p):
		return fmt.Sprintf("%s went stale: another proposal on %s was adopted", Short(q), p.Clause), nil
	}
	return "", nil
}

// checkConditions checks the proposals an acceptance of p is subject to.
func (s *State) checkConditions(p *Proposal, subjectTo []string) error {
	seen := map[string]bool{}
	for _, q := range subjectTo {
		if q == p.Proposal {
			return Errorf(EINVALID, "an acceptance of %s cannot be subject to itself", Short(q))
		}
		if seen[q] {
			return Errorf(EINVALID, "proposal %s is named twice among the conditions", Short(q))
		}
		seen[q] = true
		if _, err := s.existing(q); err != nil {
			return err
		}
		if why, err := s.unmeetable(q); err != nil {
			return err
		} else if why != "" {
			return Errorf(ECONFLICT, "an acceptance subject to %s could never count: %s", Short(q), why)
		}
	}
	return nil
}

// Conditional lists, in party order, the parties whose acceptance of p is
// subject to other proposals not yet adopted, with those proposals.
func (s *State) Conditional(p *Proposal) []Condition {
	var out []Condition
	for _, party := range s.Parties {
		pos, ok := p.Positions.Lookup(party.Code)
		if !ok || pos.Stance != Accepts || len(pos.SubjectTo) == 0 {
			continue
		}
		out = append(out, Condition{Party: party.Code, SubjectTo: slices.Clone(pos.SubjectTo)})
	}
	return out
}

// Condition is a party's acceptance subject to other proposals.
type Condition struct {
	Party     string   `json:"party"`
	SubjectTo []string `json:"subject_to"`
}

// candidates indexes the open proposals every party accepts, with
// conditions or without: the only ones an act can adopt besides the one it
// is about. Proposals without linkage are adopted as soon as they get there,
// so it holds the packages still waiting for a condition. conditioned
// indexes the open proposals with an acceptance subject to others: the only
// ones a lapse can touch. Both are built from Proposals on first use and
// kept by track, so that no event pays for every open proposal.
func (s *State) candidates() map[string]struct{} {
	if s.ready == nil {
		s.buildLinkage()
	}
	return s.ready
}

func (s *State) conditioned() map[string]struct{} {
	if s.linked == nil {
		s.buildLinkage()
	}
	return s.linked
}

func (s *State) buildLinkage() {
	s.ready, s.linked = map[string]struct{}{}, map[string]struct{}{}
	for _, p := range s.Proposals {
		s.track(p)
	}
}

// track files p in the indexes as its positions and status now say; it is
// called whenever they change.
func (s *State) track(p *Proposal) {
	if s.ready == nil || s.linked == nil {
		return // built from Proposals when first needed
	}
	delete(s.ready, p.Proposal)
	delete(s.linked, p.Proposal)
	if p.Status != StatusOpen {
		return
	}
	if s.fullyAccepted(p, nil) {
		s.ready[p.Proposal] = struct{}{}
	}
	for _, pos := range p.Positions {
		if pos.Stance == Accepts && len(pos.SubjectTo) > 0 {
			s.linked[p.Proposal] = struct{}{}
			break
		}
	}
}
