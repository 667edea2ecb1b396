package domain

import (
	"crypto/ed25519"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// Signing is RFC 8032's Ed25519, written out on filippo.io/edwards25519 so
// that the two multiplications by the base point use its constant-time
// variable-base ScalarMult: crypto/ed25519 multiplies by a table of the
// base point that it builds on its first use in each process, which costs
// a command that signs one event more than the rest of the signing. The
// keys and signatures are crypto/ed25519's, byte for byte (Ed25519 is
// deterministic; TestSignMatchesCrypto and FuzzSign hold it to that).

// KeyFromSeed returns the private key of an RFC 8032 seed, as
// ed25519.NewKeyFromSeed does. It panics, as that does, when the seed is
// not ed25519.SeedSize bytes long.
func KeyFromSeed(seed []byte) ed25519.PrivateKey {
	if len(seed) != ed25519.SeedSize {
		panic("domain: bad ed25519 seed length")
	}
	s, _ := expandSeed(seed)
	priv := make(ed25519.PrivateKey, 0, ed25519.PrivateKeySize)
	priv = append(priv, seed...)
	return append(priv, baseMult(s).Bytes()...)
}

// signBytes returns what ed25519.Sign(priv, msg) returns.
func signBytes(priv ed25519.PrivateKey, msg []byte) []byte {
	seed, pub := priv[:ed25519.SeedSize], priv[ed25519.SeedSize:]
	s, prefix := expandSeed(seed)
	d := sha512.New()
	d.Write(prefix)
	d.Write(msg)
	r := uniformScalar(d.Sum(nil))
	R := baseMult(r).Bytes()
	d.Reset()
	d.Write(R)
	d.Write(pub)
	d.Write(msg)
	k := uniformScalar(d.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(k, s, r)
	return append(R, S.Bytes()...)
}

// expandSeed is the clamped secret scalar of a seed, and the prefix its
// signatures' nonces are hashed from: the two halves of its SHA-512.
func expandSeed(seed []byte) (*edwards25519.Scalar, []byte) {
	h := sha512.Sum512(seed)
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		panic("domain: " + err.Error()) // 32 bytes are always accepted
	}
	return s, h[32:]
}

// uniformScalar reduces a 64-byte hash modulo the group order.
func uniformScalar(h []byte) *edwards25519.Scalar {
	s, err := edwards25519.NewScalar().SetUniformBytes(h)
	if err != nil {
		panic("domain: " + err.Error()) // 64 bytes are always accepted
	}
	return s
}

// baseMult is s times the base point, in constant time, without a table.
func baseMult(s *edwards25519.Scalar) *edwards25519.Point {
	return new(edwards25519.Point).ScalarMult(s, edwards25519.NewGeneratorPoint())
}
