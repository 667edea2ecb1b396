package domain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"

	"github.com/hdevalence/ed25519consensus"
)

// Signatures over event hashes are checked by ZIP-215's rules
// (https://zips.z.cash/zip-0215), as github.com/hdevalence/ed25519consensus
// implements them: the equation is cofactored and the encodings of R and
// the key are not required to be canonical. They accept every signature
// RFC 8032 and crypto/ed25519 accept, and besides only signatures that the
// key's holder crafted on purpose (a non-canonical R, or one with a
// component of small order): no one else can make one, nor respell a
// valid one, since s must be canonical and R and the key are hashed as
// stored. What they buy is that checking many signatures at once (as
// verify does) gives exactly the verdict of checking each alone, which
// crypto/ed25519's cofactorless rules cannot promise.

// CheckSignature reports whether sig is pub's signature of hash, by
// ZIP-215's rules.
func CheckSignature(pub ed25519.PublicKey, hash, sig string) bool {
	raw, s, ok := DecodeSigned(hash, sig)
	return ok && ed25519consensus.Verify(pub, raw, s)
}

// DecodeSigned reads an event's hash and its signature as stored: ok is
// false when either is malformed, and then no signature is valid.
func DecodeSigned(hash, sig string) (raw, s []byte, ok bool) {
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != sha256.Size {
		return nil, nil, false
	}
	s, err = strictBase64.DecodeString(sig)
	if err != nil || len(s) != ed25519.SignatureSize {
		return nil, nil, false
	}
	return raw, s, true
}
