package domain

import (
	"crypto/ed25519"
)

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

// SigningKey returns the key that must sign an act of party appended to s,
// if any must: the party's current key, or for its first key's registration
// the key being registered (which proves the registering machine holds it).
// Without one, the party's acts are unsigned.
func (s *State) SigningKey(e Event, party string) (ed25519.PublicKey, string, bool) {
	if party == "" {
		return nil, "", false
	}
	if pub, id, ok := s.KeyOf(party); ok {
		return pub, id, true
	}
	if k, ok := e.(PartyKeyRegistered); ok && k.Party == party {
		if pub, err := ParseKey(k.Key); err == nil {
			return pub, KeyID(pub), true
		}
	}
	return nil, "", false
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
