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
	case KeyEndorsed:
		return e.Party, true
	case KeyRevoked:
		return e.Party, true
	case ProposalAdopted:
		return prev, true
	}
	return "", false
}

// Authentication is what a signature proves about an act.
type Authentication uint8

const (
	// NotSigned: the act carries no signature.
	NotSigned Authentication = iota
	// SignedPending: signed with the actor's pending key, which no other
	// party has vouched for (yet): it proves only that one machine made
	// the act.
	SignedPending
	// Authenticated: signed with the actor's effective key (pinned, or
	// endorsed by every other party).
	Authenticated
)

// CheckMeta checks what is recorded about event e, about to be folded into
// s, against the rules of the record: a time, the round it happened in, the
// participant it is recorded as acted by, the hash a round's close cites,
// and the key it must (or may) be signed with. prev is the metadata of the
// event before it (the zero Meta for the first). It returns the key whose
// signature the event carries, if any, for the caller to check (checking
// signatures is the costly part, and may be done in parallel), and what
// that signature will prove.
//
// With requireSigned, every act must carry a signature: a participant's
// acts before its key took effect, and an anonymous opening, fail.
func (s *State) CheckMeta(e Event, m Meta, prev Meta, requireSigned bool) (ed25519.PublicKey, Authentication, error) {
	if m.Time.IsZero() {
		return nil, NotSigned, fmt.Errorf("records no time")
	}
	if want := s.RoundOf(e); m.Round != want && s.Treaty != "" {
		state := "the last"
		if s.OpenRound() == want {
			state = "open"
		}
		return nil, NotSigned, fmt.Errorf("records round %d, but round %d was %s", m.Round, want, state)
	}
	if want, ok := Actor(e, prev.Party); ok && m.Party != want {
		return nil, NotSigned, fmt.Errorf("records %q as the acting party, but the act is %s's", m.Party, want)
	}
	if c, ok := e.(RoundClosed); ok && c.Head != prev.Hash {
		return nil, NotSigned, fmt.Errorf("records the round's head as %s, but the event before it has hash %s", ShortHash(c.Head), ShortHash(prev.Hash))
	}
	if m.Party == "" {
		switch {
		case m.Signature != "":
			return nil, NotSigned, fmt.Errorf("is signed but records no acting party")
		case isRoundEvent(e):
			return nil, NotSigned, fmt.Errorf("records no acting party: a round is opened and closed by a participant")
		case requireSigned:
			return nil, NotSigned, fmt.Errorf("is an anonymous act (signatures are required: the opening must be made by a participant whose key is pinned in it)")
		}
		return nil, NotSigned, nil
	}
	if !s.isParticipant(e, m.Party) {
		return nil, NotSigned, fmt.Errorf("was recorded as acted by %q, who is not a participant", m.Party)
	}
	pub, id, rule := s.SigningKey(e, m.Party)
	if r, ok := e.(PartyKeyRegistered); ok && rule == MustSign && m.Key != id {
		// A registration by a participant without an effective key may
		// also be signed by its pending key, as logs written before keys
		// needed endorsements did when rotating.
		if k, ok := s.PendingKey(r.Party); ok && k.ID == m.Key {
			p, _ := ParseKey(k.Public)
			return p, SignedPending, nil
		}
	}
	switch {
	case rule == MustSign && m.Signature == "":
		return nil, NotSigned, fmt.Errorf("is an unsigned act of %s, whose key %s must sign it", m.Party, id)
	case rule == MustSign && m.Key != id:
		return nil, NotSigned, fmt.Errorf("is signed with key %q, but it must be signed with %s's key %s", m.Key, m.Party, id)
	case rule == MustSign:
		auth := Authenticated
		if _, opening := e.(TreatyOpened); opening {
			// signed with a key the opening itself pins
		} else if k := s.Keys[id]; k == nil || k.Status != KeyIsEffective {
			auth = SignedPending // a registration or endorsement by a key not (yet) in effect
		}
		return pub, auth, nil
	case m.Signature != "" && (rule == Unsigned || m.Key != id):
		return nil, NotSigned, fmt.Errorf("is signed with key %q, which is not a key of %s's in use", m.Key, m.Party)
	case m.Signature != "":
		return pub, SignedPending, nil
	case requireSigned:
		return nil, NotSigned, fmt.Errorf("is an unsigned act of %s (signatures are required)", m.Party)
	}
	return nil, NotSigned, nil
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
