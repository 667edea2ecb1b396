package projections

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"

	"filippo.io/edwards25519"

	"github.com/treaty-engine/treaty/domain"
)

// signatureBatch checks many signatures of event hashes at once, in one
// multiscalar multiplication, by ZIP-215's rules (see domain.CheckSignature):
// verify is true exactly when CheckSignature would be true of every
// signature added, but for a chance of about 2^-128 that a batch holding a
// bad signature passes. It is ed25519consensus.BatchVerifier's equation,
// with one change: a few parties sign a whole log, so the terms of each key
// are summed before the multiplication, which leaves about one point per
// signature (its R) where the library's has two. The zero value is an empty
// batch.
type signatureBatch struct {
	entries []batchEntry
	keys    map[[ed25519.PublicKeySize]byte]int
	keyList [][ed25519.PublicKeySize]byte
	// malformed: a hash or signature that does not decode was added.
	malformed bool
}

type batchEntry struct {
	key int // in keyList
	r   [32]byte
	s   [32]byte
	k   edwards25519.Scalar // SHA-512(R || key || hash), reduced
}

// add adds pub's signature sig of hash to the batch.
func (b *signatureBatch) add(pub ed25519.PublicKey, hash, sig string) {
	raw, s, ok := domain.DecodeSigned(hash, sig)
	if !ok || len(pub) != ed25519.PublicKeySize {
		b.malformed = true
		return
	}
	if b.keys == nil {
		b.keys = map[[ed25519.PublicKeySize]byte]int{}
	}
	key := [ed25519.PublicKeySize]byte(pub)
	i, seen := b.keys[key]
	if !seen {
		i = len(b.keyList)
		b.keys[key] = i
		b.keyList = append(b.keyList, key)
	}
	e := batchEntry{key: i, r: [32]byte(s[:32]), s: [32]byte(s[32:])}
	h := sha512.New()
	h.Write(s[:32])
	h.Write(pub)
	h.Write(raw)
	var digest [sha512.Size]byte
	e.k.SetUniformBytes(h.Sum(digest[:0]))
	b.entries = append(b.entries, e)
}

// reset empties the batch, keeping its memory for the next.
func (b *signatureBatch) reset() {
	b.entries = b.entries[:0]
	clear(b.keys)
	b.keyList = b.keyList[:0]
	b.malformed = false
}

// verify reports whether every signature added is valid. When it is false,
// at least one is not, and only domain.CheckSignature can say which. An empty
// batch is valid.
func (b *signatureBatch) verify() bool {
	if b.malformed {
		return false
	}
	n, m := len(b.entries), len(b.keyList)
	if n == 0 {
		return true
	}
	// Every signature's equation [8]([s_i]B - R_i - [k_i]A_i) = 0 holds
	// if and only if (but for the chance above) their sum weighted by
	// random 128-bit z_i does:
	// [8]([-Σ z_i s_i]B + Σ [z_i]R_i + Σ_A [Σ_{A_i=A} z_i k_i]A) = 0.
	scalars := make([]edwards25519.Scalar, 1+n+m)
	points := make([]edwards25519.Point, 1+n+m)
	sp := make([]*edwards25519.Scalar, len(scalars))
	pp := make([]*edwards25519.Point, len(points))
	for i := range scalars {
		sp[i], pp[i] = &scalars[i], &points[i]
	}
	pp[0].Set(edwards25519.NewGeneratorPoint())
	for j, key := range b.keyList {
		if _, err := pp[1+n+j].SetBytes(key[:]); err != nil {
			return false
		}
	}
	random := make([]byte, 16*n)
	rand.Read(random) // never fails
	var z [32]byte
	var s, zk edwards25519.Scalar
	for i := range b.entries {
		e := &b.entries[i]
		if _, err := pp[1+i].SetBytes(e.r[:]); err != nil {
			return false
		}
		if _, err := s.SetCanonicalBytes(e.s[:]); err != nil {
			return false
		}
		copy(z[:16], random[16*i:])
		zi := sp[1+i]
		if _, err := zi.SetCanonicalBytes(z[:]); err != nil {
			return false
		}
		sp[0].MultiplyAdd(zi, &s, sp[0])
		a := sp[1+n+e.key]
		a.Add(a, zk.Multiply(zi, &e.k))
	}
	sp[0].Negate(sp[0])
	check := new(edwards25519.Point).VarTimeMultiScalarMult(sp, pp)
	return check.MultByCofactor(check).Equal(edwards25519.NewIdentityPoint()) == 1
}
