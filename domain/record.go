package domain

import (
	"crypto/ed25519"
	"fmt"
)

// Actor returns the participant an event must be recorded as acted by, when
// the event itself says: the party tabling, taking a position, withdrawing
// or registering a key; for an adoption, whoever acted in the event before
// it (prev), whose act completed unanimity.
func Actor(e Event, prev string) (string, bool) {
	switch e := e.(type) {
	case ProposalTabled:
		return e.Party, true
	case ProposalAccepted:
		return e.Party, true
	case ProposalObjected:
		return e.Party, true
	case ProposalWithdrawn:
		return e.Party, true
	case PartyKeyRegistered:
		return e.Party, true
	case ProposalAdopted:
		return prev, true
	}
	return "", false
}

// CheckMeta checks what is recorded about event e, about to be folded into
// s, against the rules of the record: a time, the round it happened in, the
// party it is recorded as acted by, the hash a round's close cites, and
// whether it is signed with the key it must be. prev is the metadata of the
// event before it (the zero Meta for the first). It returns the key whose
// signature the event must carry, if any, for the caller to check: checking
// signatures is the costly part, and may be done in parallel.
//
// With requireSigned, every act of a participant must be signed, even
// before the participant registered a key.
func (s *State) CheckMeta(e Event, m Meta, prev Meta, requireSigned bool) (ed25519.PublicKey, error) {
	if m.Time.IsZero() {
		return nil, fmt.Errorf("records no time")
	}
	if want := s.RoundOf(e); m.Round != want && s.Treaty != "" {
		state := "the last"
		if s.OpenRound() == want {
			state = "open"
		}
		return nil, fmt.Errorf("records round %d, but round %d was %s", m.Round, want, state)
	}
	if want, ok := Actor(e, prev.Party); ok && m.Party != want {
		return nil, fmt.Errorf("records %q as the acting party, but the act is %s's", m.Party, want)
	}
	if c, ok := e.(RoundClosed); ok && c.Head != prev.Hash {
		return nil, fmt.Errorf("records the round's head as %s, but the event before it has hash %s", ShortHash(c.Head), ShortHash(prev.Hash))
	}
	if m.Party == "" {
		switch {
		case m.Signature != "":
			return nil, fmt.Errorf("is signed but records no acting party")
		case isRoundEvent(e):
			return nil, fmt.Errorf("records no acting party: a round is opened and closed by a participant")
		}
		return nil, nil
	}
	if !s.isParticipant(e, m.Party) {
		return nil, fmt.Errorf("was recorded as acted by %q, who is not a participant", m.Party)
	}
	pub, id, keyed := s.SigningKey(e, m.Party)
	switch {
	case keyed && m.Signature == "":
		return nil, fmt.Errorf("is an unsigned act of %s, who registered key %s", m.Party, id)
	case keyed && m.Key != id:
		return nil, fmt.Errorf("is signed with key %q, but %s's key is %s", m.Key, m.Party, id)
	case !keyed && m.Signature != "":
		return nil, fmt.Errorf("is signed with key %q, which %s never registered", m.Key, m.Party)
	case !keyed && requireSigned:
		return nil, fmt.Errorf("is an unsigned act of %s (signatures are required)", m.Party)
	}
	return pub, nil
}

// isParticipant reports whether code is a participant once e is folded
// (the opening names the participants).
func (s *State) isParticipant(e Event, code string) bool {
	if o, ok := e.(TreatyOpened); ok {
		for _, p := range o.Parties {
			if p.Code == code {
				return true
			}
		}
		return false
	}
	_, ok := s.Party(code)
	return ok
}

func isRoundEvent(e Event) bool {
	switch e.(type) {
	case RoundOpened, RoundClosed:
		return true
	}
	return false
}

// ShortHash gives the first 12 hex digits of a hash, the form messages
// quote, or "(none)".
func ShortHash(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
