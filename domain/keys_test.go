package domain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"
)

// testKey returns a key that follows from its name.
func testKey(name string) (ed25519.PublicKey, ed25519.PrivateKey) {
	seed := sha256.Sum256([]byte(name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return priv.Public().(ed25519.PublicKey), priv
}

func keyID(name string) string { pub, _ := testKey(name); return KeyID(pub) }

func (n *negotiation) register(party, name string) string {
	n.t.Helper()
	pub, _ := testKey(name)
	n.do(RegisterKey{Party: party, Key: pub})
	return KeyID(pub)
}

func (n *negotiation) status(name string) KeyStatus {
	n.t.Helper()
	k := n.s.Keys[keyID(name)]
	if k == nil {
		n.t.Fatalf("no key %s", name)
	}
	return k.Status
}

func (n *negotiation) wantStatus(want KeyStatus, names ...string) {
	n.t.Helper()
	for _, name := range names {
		if got := n.status(name); got != want {
			n.t.Fatalf("key %s is %s, want %s", name, got, want)
		}
	}
}

func pinned(names map[string]string) map[string]string {
	out := map[string]string{}
	for party, name := range names {
		pub, _ := testKey(name)
		out[party] = EncodeKey(pub)
	}
	return out
}

func newPinned(t *testing.T, pins map[string]string) *negotiation {
	n := &negotiation{t: t}
	n.do(OpenTreaty{Treaty: "berlin", Title: "Berlin", Parties: []Party{
		{Code: "UA", Role: RoleParty}, {Code: "US", Role: RoleParty}, {Code: "EU", Role: RoleParty}, {Code: "DE", Role: RoleObserver},
	}, Keys: pinned(pins)})
	return n
}

// Keys pinned at the opening are effective from the first event, and the
// opening of a participant with a pinned key must be signed with it.
func TestPinnedKeys(t *testing.T) {
	n := newPinned(t, map[string]string{"UA": "ua", "US": "us"})
	n.wantStatus(KeyIsEffective, "ua", "us")
	if _, id, ok := n.s.KeyOf("UA"); !ok || id != keyID("ua") {
		t.Fatal("UA's pinned key is not effective")
	}
	if _, id, rule := (&State{}).SigningKey(n.log[0], "UA"); rule != MustSign || id != keyID("ua") {
		t.Fatalf("the opening by UA: %s %v", id, rule)
	}
	if _, _, rule := (&State{}).SigningKey(n.log[0], "EU"); rule != Unsigned {
		t.Fatal("an opening by a participant without a pinned key must be signed")
	}
	// A key pinned twice, or for a stranger, or malformed, is refused.
	for _, pins := range []map[string]string{
		{"UA": pinned(map[string]string{"x": "k"})["x"], "US": pinned(map[string]string{"x": "k"})["x"]},
		{"RU": pinned(map[string]string{"x": "k"})["x"]},
		{"UA": "not a key"},
	} {
		var s State
		if _, err := Decide(&s, OpenTreaty{Treaty: "t", Title: "T", Parties: []Party{{Code: "UA", Role: RoleParty}, {Code: "US", Role: RoleParty}}, Keys: pins}); ErrorCode(err) != EINVALID {
			t.Errorf("pins %v: %v", pins, err)
		}
	}
	// EU's key takes effect on UA's and US's endorsements, made with
	// their pinned keys.
	n.register("EU", "eu")
	n.wantStatus(KeyIsPending, "eu")
	n.do(EndorseKey{Party: "UA", Subject: "EU"})
	n.wantStatus(KeyIsPending, "eu")
	n.do(EndorseKey{Party: "US", Subject: "EU"})
	n.wantStatus(KeyIsEffective, "eu")
}

// Without pinned keys, the parties' new keys take effect together once
// each has endorsed every other's: a ring.
func TestKeyRing(t *testing.T) {
	n := newNegotiation(t)
	for _, p := range []string{"UA", "US", "EU"} {
		n.register(p, p)
	}
	n.wantStatus(KeyIsPending, "UA", "US", "EU")
	endorse := func(by, subject string) { n.t.Helper(); n.do(EndorseKey{Party: by, Subject: subject}) }
	endorse("UA", "US")
	endorse("UA", "EU")
	endorse("US", "UA")
	endorse("US", "EU")
	endorse("EU", "UA")
	n.wantStatus(KeyIsPending, "UA", "US", "EU") // US still lacks EU's word
	endorse("EU", "US")
	n.wantStatus(KeyIsEffective, "UA", "US", "EU")
	// An observer's key needs every party's endorsement, and the
	// observer's own endorsement is needed by nobody.
	n.register("DE", "de")
	endorse("UA", "DE")
	endorse("US", "DE")
	n.wantStatus(KeyIsPending, "de")
	endorse("EU", "DE")
	n.wantStatus(KeyIsEffective, "de")
	// A single-party negotiation has nobody to vouch: a key takes effect
	// on its registration.
	solo := newNegotiation(t, Party{Code: "UA", Role: RoleParty}, Party{Code: "DE", Role: RoleObserver})
	solo.register("UA", "solo")
	solo.wantStatus(KeyIsEffective, "solo")
}

// The hijack the adversarial test found: the US operator registered a key
// as UA's. It stays pending: EU does not vouch for it, so acts "as UA"
// signed with it authenticate nothing, and the real UA's key, endorsed by
// the others, takes effect instead.
func TestPlantedKeyStaysPending(t *testing.T) {
	n := newPinned(t, map[string]string{"US": "us", "EU": "eu"})
	n.register("UA", "planted by US")
	n.do(EndorseKey{Party: "US", Subject: "UA"})
	n.wantStatus(KeyIsPending, "planted by US")
	if _, _, ok := n.s.KeyOf("UA"); ok {
		t.Fatal("a key one party vouched for is in effect")
	}
	// Acts of UA are now at most signed with a pending key.
	if _, _, rule := n.s.SigningKey(ProposalAccepted{Party: "UA"}, "UA"); rule != MaySign {
		t.Fatalf("an act of UA with a pending key: %v", rule)
	}
	// The real UA registers its own; the planted one is superseded.
	n.register("UA", "the real UA's")
	n.wantStatus(KeyIsSuperseded, "planted by US")
	n.do(EndorseKey{Party: "US", Subject: "UA"})
	n.do(EndorseKey{Party: "EU", Subject: "UA"})
	n.wantStatus(KeyIsEffective, "the real UA's")
	// A key belongs to one participant.
	pub, _ := testKey("us")
	n.refuse(RegisterKey{Party: "UA", Key: pub}, ECONFLICT, "a key belongs to one participant")
}

// A party that lost its key registers a new one, which takes effect on the
// others' endorsements and supersedes the lost one; a stolen key is
// revoked by the others' votes, or by its owner.
func TestRecoveryAndRevocation(t *testing.T) {
	n := newPinned(t, map[string]string{"UA": "ua", "US": "us", "EU": "eu"})
	n.register("UA", "ua-2")
	n.wantStatus(KeyIsEffective, "ua")
	n.wantStatus(KeyIsPending, "ua-2")
	n.refuse(EndorseKey{Party: "UA", Subject: "UA"}, EFORBIDDEN, "cannot endorse its own key")
	n.do(EndorseKey{Party: "US", Subject: "UA"})
	n.do(EndorseKey{Party: "EU", Subject: "UA"})
	n.wantStatus(KeyIsEffective, "ua-2")
	n.wantStatus(KeyIsSuperseded, "ua")
	n.refuse(EndorseKey{Party: "US", Subject: "UA", Key: keyID("ua")}, ECONFLICT, "superseded")

	// US's key is stolen: UA and EU vote to revoke it.
	n.do(RevokeKey{Party: "UA", Subject: "US", Reason: "stolen"})
	n.wantStatus(KeyIsEffective, "us")
	n.refuse(RevokeKey{Party: "UA", Subject: "US"}, ECONFLICT, "already voted")
	n.do(RevokeKey{Party: "EU", Subject: "US"})
	n.wantStatus(KeyIsRevoked, "us")
	if _, _, ok := n.s.KeyOf("US"); ok {
		t.Fatal("a revoked key is in effect")
	}
	// A revoked key endorses nothing and is endorsed by no one.
	n.refuse(EndorseKey{Party: "UA", Subject: "US", Key: keyID("us")}, ECONFLICT, "revoked")
	n.register("EU", "eu-2")
	if err := n.s.Evolve(KeyEndorsed{Party: "US", Subject: "EU", Key: keyID("eu-2"), By: keyID("us")}); err == nil {
		t.Fatal("an endorsement made with a revoked key was folded")
	}
	// US recovers: a new key, endorsed by the others.
	n.register("US", "us-2")
	n.do(EndorseKey{Party: "UA", Subject: "US"})
	n.do(EndorseKey{Party: "EU", Subject: "US"})
	n.wantStatus(KeyIsEffective, "us-2")
	// An owner may end its own key alone.
	n.do(RevokeKey{Party: "UA", Subject: "UA"})
	n.wantStatus(KeyIsRevoked, "ua-2")
	// A vote to end another's key needs an effective key of the voter's.
	n.refuse(RevokeKey{Party: "UA", Subject: "US"}, EFORBIDDEN, "holds no effective key")
}

// Which key must sign an act, and what CheckMeta makes of its signature.
func TestSigningRules(t *testing.T) {
	n := newPinned(t, map[string]string{"US": "us", "EU": "eu"})
	meta := func(party, key, sig string) Meta {
		return Meta{Party: party, Time: time.Unix(1, 0), Key: key, Signature: sig}
	}
	accept := ProposalAccepted{Proposal: "p", Party: "US"}
	check := func(e Event, m Meta, require bool) (Authentication, error) {
		_, auth, err := n.s.CheckMeta(e, m, Meta{}, require)
		return auth, err
	}
	if _, err := check(accept, meta("US", "", ""), false); err == nil {
		t.Fatal("an unsigned act of a party with an effective key passed")
	}
	if auth, err := check(accept, meta("US", keyID("us"), "sig"), false); err != nil || auth != Authenticated {
		t.Fatalf("signed with the effective key: %v %v", auth, err)
	}
	if _, err := check(accept, meta("US", keyID("eu"), "sig"), false); err == nil {
		t.Fatal("an act signed with another party's key passed")
	}
	ua := ProposalAccepted{Proposal: "p", Party: "UA"}
	if auth, err := check(ua, meta("UA", "", ""), false); err != nil || auth != NotSigned {
		t.Fatalf("an unsigned act of a keyless party: %v %v", auth, err)
	}
	if _, err := check(ua, meta("UA", "", ""), true); err == nil {
		t.Fatal("an unsigned act passed with signatures required")
	}
	n.register("UA", "ua")
	if auth, err := check(ua, meta("UA", keyID("ua"), "sig"), false); err != nil || auth != SignedPending {
		t.Fatalf("signed with a pending key: %v %v", auth, err)
	}
	if auth, err := check(ua, meta("UA", "", ""), false); err != nil || auth != NotSigned {
		t.Fatalf("unsigned with a pending key: %v %v", auth, err)
	}
	en := KeyEndorsed{Party: "UA", Subject: "US", Key: keyID("us"), By: keyID("ua")}
	if _, err := check(en, meta("UA", "", ""), false); err == nil {
		t.Fatal("an unsigned endorsement passed")
	}
	if _, err := check(RoundOpened{Round: 1}, Meta{Time: time.Unix(1, 0), Round: 1}, false); err == nil {
		t.Fatal("a round opened by nobody passed")
	}
	if _, err := check(ua, meta("RU", "", ""), false); err == nil {
		t.Fatal("an act of a stranger passed")
	}
}
