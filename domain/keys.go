package domain

import (
	"crypto/ed25519"
	"slices"
)

// KeyStatus is where a participant's signing key stands.
type KeyStatus string

const (
	// KeyIsPending: registered, not yet endorsed by every other party. The
	// participant's acts are not authenticated by it.
	KeyIsPending KeyStatus = "pending"
	// KeyIsEffective: pinned at the opening, or endorsed by every other
	// party. Every act of the participant must be signed with it.
	KeyIsEffective KeyStatus = "effective"
	// KeyIsSuperseded: replaced by a newer key of the participant (one that
	// took effect, or, while still pending, a newer registration).
	KeyIsSuperseded KeyStatus = "superseded"
	// KeyIsRevoked: ended by the participant itself or by every other party.
	KeyIsRevoked KeyStatus = "revoked"
)

// Key is a signing key a participant registered or had pinned, and where it
// stands.
type Key struct {
	ID     string // see KeyID
	Party  string
	Public string // ed25519, base64
	Pinned bool
	// Registered is the event that registered (or, pinned, opened) it;
	// Since the event that gave it its status; Effective the event at
	// which it took effect (0: never).
	Registered, Since, Effective int
	Status                       KeyStatus
	Endorsements                 []Endorsement
	// Revocations lists the participants that voted to end it.
	Revocations []string
}

// Endorsement is one party vouching for a key, with its own key By, at an
// event.
type Endorsement struct {
	Party string
	By    string
	Event int
}

// KeyOf returns the participant's effective public key and its ID, if it
// has one.
func (s *State) KeyOf(party string) (ed25519.PublicKey, string, bool) {
	k := s.keyWith(party, KeyIsEffective)
	if k == nil {
		return nil, "", false
	}
	pub, err := ParseKey(k.Public)
	if err != nil {
		return nil, "", false
	}
	return pub, k.ID, true
}

// PendingKey returns the participant's pending key, if it has one (at most
// one: a newer registration supersedes it).
func (s *State) PendingKey(party string) (*Key, bool) {
	k := s.keyWith(party, KeyIsPending)
	return k, k != nil
}

func (s *State) keyWith(party string, st KeyStatus) *Key {
	for _, k := range s.Keys {
		if k.Party == party && k.Status == st {
			return k
		}
	}
	return nil
}

// PartyKeys lists a participant's keys, oldest first.
func (s *State) PartyKeys(party string) []*Key {
	var ks []*Key
	for _, k := range s.Keys {
		if k.Party == party {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b *Key) int { return a.Registered - b.Registered })
	return ks
}

// Missing lists the parties whose endorsement key k still needs.
func (s *State) Missing(k *Key) []string {
	var out []string
	for _, p := range s.endorsersOf(k.Party) {
		if !slices.ContainsFunc(k.Endorsements, func(e Endorsement) bool { return e.Party == p }) {
			out = append(out, p)
		}
	}
	return out
}

// endorsersOf lists the parties whose endorsement a key of subject needs:
// every party but the subject. (Observers may endorse; they are not needed,
// as their acceptance is not needed for a proposal.)
func (s *State) endorsersOf(subject string) []string {
	var ps []string
	for _, p := range s.Parties {
		if p.Role == RoleParty && p.Code != subject {
			ps = append(ps, p.Code)
		}
	}
	return ps
}

// Signing says whether an act must, may or must not be signed.
type Signing uint8

const (
	// Unsigned: the participant holds no key; a signature would name a
	// key it does not have.
	Unsigned Signing = iota
	// MaySign: the participant has a pending key only; its acts may be
	// signed with it, which authenticates nothing until it takes effect.
	MaySign
	// MustSign: the act must be signed with the key named.
	MustSign
)

// SigningKey returns the key an act e of party, appended to s, is to be
// signed with, and whether it must be: the party's effective key; for an
// endorsement, the key it names as the endorser's; for a key's
// registration by a party without an effective key, the key registered
// (which proves the registering machine holds it); for a party with only a
// pending key, that key, optionally.
func (s *State) SigningKey(e Event, party string) (ed25519.PublicKey, string, Signing) {
	if party == "" {
		return nil, "", Unsigned
	}
	pinned := func(b64 string) (ed25519.PublicKey, string, Signing) {
		pub, err := ParseKey(b64)
		if err != nil {
			return nil, "", Unsigned
		}
		return pub, KeyID(pub), MustSign
	}
	if o, ok := e.(TreatyOpened); ok {
		if k, ok := o.Keys[party]; ok {
			return pinned(k)
		}
		return nil, "", Unsigned
	}
	if en, ok := e.(KeyEndorsed); ok && en.Party == party {
		if k := s.Keys[en.By]; k != nil && k.Party == party {
			return pinned(k.Public)
		}
	}
	if pub, id, ok := s.KeyOf(party); ok {
		return pub, id, MustSign
	}
	if r, ok := e.(PartyKeyRegistered); ok && r.Party == party {
		return pinned(r.Key)
	}
	if k, ok := s.PendingKey(party); ok {
		pub, _, _ := pinned(k.Public)
		return pub, k.ID, MaySign
	}
	return nil, "", Unsigned
}

func (s *State) addKey(k *Key) {
	if s.Keys == nil {
		s.Keys = map[string]*Key{}
	}
	s.Keys[k.ID] = k
}

// checkPins checks the keys pinned at an opening.
func checkPins(e TreatyOpened) error {
	seen := map[string]string{}
	for party, b64 := range e.Keys {
		if !slices.ContainsFunc(e.Parties, func(p Party) bool { return p.Code == party }) {
			return Errorf(EINVALID, "a key is pinned for %s, who is not a participant", party)
		}
		pub, err := ParseKey(b64)
		if err != nil {
			return err
		}
		if other, dup := seen[KeyID(pub)]; dup {
			return Errorf(EINVALID, "the same key is pinned for %s and %s", other, party)
		}
		seen[KeyID(pub)] = party
	}
	return nil
}

func (s *State) pin(e TreatyOpened) {
	for party, b64 := range e.Keys {
		pub, _ := ParseKey(b64)
		s.addKey(&Key{ID: KeyID(pub), Party: party, Public: b64, Pinned: true, Registered: 1, Since: 1, Effective: 1, Status: KeyIsEffective})
	}
}

func (s *State) checkRegisterKey(e PartyKeyRegistered) error {
	if _, err := s.Participant(e.Party); err != nil {
		return err
	}
	pub, err := ParseKey(e.Key)
	if err != nil {
		return err
	}
	if k := s.Keys[KeyID(pub)]; k != nil {
		if k.Party == e.Party {
			return Errorf(ECONFLICT, "key %s is already %s's (%s)", k.ID, e.Party, k.Status)
		}
		return Errorf(ECONFLICT, "key %s is %s's: a key belongs to one participant", k.ID, k.Party)
	}
	if e.Previous != "" {
		if k := s.Keys[e.Previous]; k == nil || k.Party != e.Party {
			return Errorf(ECONFLICT, "the registration replaces key %q, which is not %s's", e.Previous, e.Party)
		}
	}
	return nil
}

func (s *State) registerKey(e PartyKeyRegistered) error {
	if err := s.checkRegisterKey(e); err != nil {
		return err
	}
	now := s.Events + 1
	if k, ok := s.PendingKey(e.Party); ok {
		k.Status, k.Since = KeyIsSuperseded, now
	}
	pub, _ := ParseKey(e.Key)
	s.addKey(&Key{ID: KeyID(pub), Party: e.Party, Public: e.Key, Registered: now, Since: now, Status: KeyIsPending})
	s.settleKeys(now)
	return nil
}

// usable reports whether k can still vouch or be vouched for.
func usable(k *Key) bool { return k.Status == KeyIsEffective || k.Status == KeyIsPending }

func (s *State) checkEndorse(e KeyEndorsed) (*Key, error) {
	if _, err := s.Participant(e.Party); err != nil {
		return nil, err
	}
	if e.Party == e.Subject {
		return nil, Errorf(EFORBIDDEN, "%s cannot endorse its own key: the other parties vouch for it", e.Party)
	}
	k := s.Keys[e.Key]
	switch {
	case k == nil || k.Party != e.Subject:
		return nil, Errorf(ENOTFOUND, "%s has no key %s", e.Subject, e.Key)
	case !usable(k):
		return nil, Errorf(ECONFLICT, "key %s of %s is %s: there is nothing to endorse", k.ID, k.Party, k.Status)
	case slices.ContainsFunc(k.Endorsements, func(en Endorsement) bool { return en.Party == e.Party && en.By == e.By }):
		return nil, Errorf(ECONFLICT, "%s already endorsed key %s of %s", e.Party, k.ID, k.Party)
	}
	by := s.Keys[e.By]
	switch {
	case by == nil || by.Party != e.Party:
		return nil, Errorf(ECONFLICT, "%s endorses with key %q, which is not %s's", e.Party, e.By, e.Party)
	case !usable(by):
		return nil, Errorf(ECONFLICT, "%s endorses with key %s, which is %s", e.Party, by.ID, by.Status)
	}
	if _, eff, ok := s.KeyOf(e.Party); ok && eff != e.By {
		return nil, Errorf(ECONFLICT, "%s endorses with key %s, but its effective key is %s", e.Party, e.By, eff)
	}
	return k, nil
}

func (s *State) endorse(e KeyEndorsed) error {
	k, err := s.checkEndorse(e)
	if err != nil {
		return err
	}
	now := s.Events + 1
	k.Endorsements = append(k.Endorsements, Endorsement{Party: e.Party, By: e.By, Event: now})
	s.settleKeys(now)
	return nil
}

func (s *State) checkRevoke(e KeyRevoked) (*Key, error) {
	if _, err := s.Participant(e.Party); err != nil {
		return nil, err
	}
	k := s.Keys[e.Key]
	switch {
	case k == nil || k.Party != e.Subject:
		return nil, Errorf(ENOTFOUND, "%s has no key %s", e.Subject, e.Key)
	case !usable(k):
		return nil, Errorf(ECONFLICT, "key %s of %s is already %s", k.ID, k.Party, k.Status)
	case slices.Contains(k.Revocations, e.Party):
		return nil, Errorf(ECONFLICT, "%s already voted to revoke key %s of %s", e.Party, k.ID, k.Party)
	}
	if e.Party != e.Subject {
		if _, _, ok := s.KeyOf(e.Party); !ok {
			return nil, Errorf(EFORBIDDEN, "%s holds no effective key: a vote to revoke another participant's key must be signed with one", e.Party)
		}
	}
	return k, checkLine("reason", e.Reason)
}

func (s *State) revoke(e KeyRevoked) error {
	k, err := s.checkRevoke(e)
	if err != nil {
		return err
	}
	now := s.Events + 1
	k.Revocations = append(k.Revocations, e.Party)
	all := true
	for _, p := range s.endorsersOf(k.Party) {
		all = all && slices.Contains(k.Revocations, p)
	}
	if e.Party == k.Party || all {
		k.Status, k.Since = KeyIsRevoked, now
		s.settleKeys(now) // endorsements it made no longer count
	}
	return nil
}

// settleKeys makes effective every pending key that every other party has
// endorsed with a key that is effective, or that takes effect with it: the
// greatest such set, so that parties endorsing each other's new keys (a
// ring) take effect together, while a key one participant planted for
// another waits for the parties it did not fool. A key taking effect
// supersedes the participant's previous one.
func (s *State) settleKeys(now int) {
	candidate := map[string]*Key{} // by ID
	for _, k := range s.Keys {
		if k.Status == KeyIsPending {
			candidate[k.ID] = k
		}
	}
	counts := func(en Endorsement) bool {
		by := s.Keys[en.By]
		return by != nil && (by.Status == KeyIsEffective || candidate[by.ID] != nil)
	}
	for changed := true; changed; {
		changed = false
		for id, k := range candidate {
			for _, p := range s.endorsersOf(k.Party) {
				if !slices.ContainsFunc(k.Endorsements, func(en Endorsement) bool { return en.Party == p && counts(en) }) {
					delete(candidate, id)
					changed = true
					break
				}
			}
		}
	}
	for _, k := range candidate {
		if old := s.keyWith(k.Party, KeyIsEffective); old != nil {
			old.Status, old.Since = KeyIsSuperseded, now
		}
		k.Status, k.Since, k.Effective = KeyIsEffective, now, now
	}
}
