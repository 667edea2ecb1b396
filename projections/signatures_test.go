package projections

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"filippo.io/edwards25519"

	"github.com/treaty-engine/treaty/domain"
)

// signedHashes signs n event hashes, each with one of three keys in turn.
func signedHashes(t *testing.T, n int) (pubs []ed25519.PublicKey, hashes, sigs []string) {
	t.Helper()
	var privs []ed25519.PrivateKey
	for i := range 3 {
		seed := sha256.Sum256(fmt.Appendf(nil, "party %d", i))
		privs = append(privs, ed25519.NewKeyFromSeed(seed[:]))
	}
	for i := range n {
		sum := sha256.Sum256(fmt.Appendf(nil, "event %d", i))
		hash := hex.EncodeToString(sum[:])
		sig, err := domain.Sign(privs[i%3], hash)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, privs[i%3].Public().(ed25519.PublicKey))
		hashes, sigs = append(hashes, hash), append(sigs, sig)
	}
	return pubs, hashes, sigs
}

func batchOf(pubs []ed25519.PublicKey, hashes, sigs []string) *signatureBatch {
	var b signatureBatch
	for i := range pubs {
		b.add(pubs[i], hashes[i], sigs[i])
	}
	return &b
}

// A batch of valid signatures passes; one bad signature among them, of
// whatever kind, fails the whole batch; a batch reset and refilled is
// judged afresh.
func TestSignatureBatch(t *testing.T) {
	pubs, hashes, sigs := signedHashes(t, 300)
	b := batchOf(pubs, hashes, sigs)
	if len(b.entries) != 300 || !b.verify() {
		t.Fatalf("a batch of %d valid signatures fails", len(b.entries))
	}
	other, _, _ := ed25519.GenerateKey(nil)
	flipped := []byte(sigs[150])
	flipped[10] = 'A'
	if sigs[150][10] == 'A' {
		flipped[10] = 'B'
	}
	for name, tamper := range map[string]func(pubs []ed25519.PublicKey, hashes, sigs []string){
		"another event's signature": func(_ []ed25519.PublicKey, _, sigs []string) { sigs[150] = sigs[153] },
		"a changed signature":       func(_ []ed25519.PublicKey, _, sigs []string) { sigs[150] = string(flipped) },
		"another key":               func(pubs []ed25519.PublicKey, _, _ []string) { pubs[150] = other },
		"another hash":              func(_ []ed25519.PublicKey, hashes, _ []string) { hashes[150] = hashes[151] },
		"a signature not base64":    func(_ []ed25519.PublicKey, _, sigs []string) { sigs[150] = "not base64!" },
		"a truncated signature":     func(_ []ed25519.PublicKey, _, sigs []string) { sigs[150] = sigs[150][:20] },
		"a hash not hex":            func(_ []ed25519.PublicKey, hashes, _ []string) { hashes[150] = "zz" },
	} {
		p, h, s := append([]ed25519.PublicKey(nil), pubs...), append([]string(nil), hashes...), append([]string(nil), sigs...)
		tamper(p, h, s)
		if domain.CheckSignature(p[150], h[150], s[150]) {
			t.Fatalf("%s: the signature alone passes", name)
		}
		if batchOf(p, h, s).verify() {
			t.Errorf("%s: the batch passes", name)
		}
	}
	b.reset()
	if !b.verify() {
		t.Fatal("an empty batch fails")
	}
	b.add(pubs[0], hashes[0], "not base64!")
	b.reset()
	b.add(pubs[0], hashes[0], sigs[0])
	if !b.verify() {
		t.Fatal("a batch reset after a malformed signature still fails")
	}
}

// smallOrder is every encoding of a point of small order: the 8 points of
// order dividing 8, and the 6 spellings of some of them that are not
// canonical (y ≥ p, or x = 0 with the sign bit set). ZIP-215 accepts a
// signature with such a key and such an R, and s = 0, whatever it signs;
// crypto/ed25519 rejects most of them.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}

// The batch's rules are ZIP-215's, as CheckSignature's are: the
// signatures with small-order and non-canonical encodings that ZIP-215
// accepts and crypto/ed25519 rejects pass alone and together, and a batch
// of them fails when one is changed.
func TestSignatureBatchFollowsZIP215(t *testing.T) {
	hashSum := sha256.Sum256([]byte("Zcash"))
	hash := hex.EncodeToString(hashSum[:])
	var pubs []ed25519.PublicKey
	var hashes, sigs []string
	strictRejects := 0
	for _, a := range smallOrder {
		for _, r := range smallOrder {
			pub, _ := hex.DecodeString(a)
			sig, _ := hex.DecodeString(r + "0000000000000000000000000000000000000000000000000000000000000000")
			if !ed25519.Verify(pub, hashSum[:], sig) {
				strictRejects++
			}
			b64 := base64.StdEncoding.EncodeToString(sig)
			if !domain.CheckSignature(pub, hash, b64) {
				t.Fatalf("ZIP-215 rejects key %s, R %s", a, r)
			}
			pubs, hashes, sigs = append(pubs, pub), append(hashes, hash), append(sigs, b64)
		}
	}
	if strictRejects == 0 {
		t.Fatal("crypto/ed25519 accepts every small-order case: the cases test nothing")
	}
	if !batchOf(pubs, hashes, sigs).verify() {
		t.Fatal("the batch rejects ZIP-215's small-order cases")
	}
	// s = 1 instead of 0: R + [k]A is of small order, never B.
	bad := []byte(sigs[100])
	raw, _ := base64.StdEncoding.DecodeString(string(bad))
	raw[32] = 1
	sigs[100] = base64.StdEncoding.EncodeToString(raw)
	if domain.CheckSignature(pubs[100], hashes[100], sigs[100]) || batchOf(pubs, hashes, sigs).verify() {
		t.Fatal("a small-order case with s changed passes")
	}
}

// A key's holder can add a point of small order to R: ZIP-215's equation
// (cofactored) accepts it, crypto/ed25519's does not; the batch agrees with
// ZIP-215, among honest signatures of other keys.
func TestSignatureBatchMixedOrderR(t *testing.T) {
	pubs, hashes, sigs := signedHashes(t, 40)
	seed := sha512.Sum512([]byte("holder"))
	a, _ := new(edwards25519.Scalar).SetBytesWithClamping(seed[:32])
	pub := new(edwards25519.Point).ScalarBaseMult(a).Bytes()
	torsion, _ := new(edwards25519.Point).SetBytes(must(hex.DecodeString(smallOrder[4])))
	for i := range 8 {
		nonce := sha512.Sum512(fmt.Appendf(nil, "nonce %d", i))
		r, _ := new(edwards25519.Scalar).SetUniformBytes(nonce[:])
		R := new(edwards25519.Point).ScalarBaseMult(r)
		R.Add(R, torsion)
		msg := sha256.Sum256(fmt.Appendf(nil, "crafted %d", i))
		h := sha512.New()
		h.Write(R.Bytes())
		h.Write(pub)
		h.Write(msg[:])
		k, _ := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
		s := new(edwards25519.Scalar).MultiplyAdd(k, a, r)
		sig := append(R.Bytes(), s.Bytes()...)
		if ed25519.Verify(pub, msg[:], sig) {
			t.Fatal("crypto/ed25519 accepts a mixed-order R: the case tests nothing")
		}
		hash, b64 := hex.EncodeToString(msg[:]), base64.StdEncoding.EncodeToString(sig)
		if !domain.CheckSignature(pub, hash, b64) {
			t.Fatal("ZIP-215 rejects a mixed-order R")
		}
		pubs, hashes, sigs = append(pubs, pub), append(hashes, hash), append(sigs, b64)
	}
	if !batchOf(pubs, hashes, sigs).verify() {
		t.Fatal("the batch rejects a mixed-order R that ZIP-215 accepts")
	}
}

// BenchmarkFewSignatures: the tail a command folds past its checkpoint, a
// few signatures by two or three parties, checked as one batch or each
// alone. Each alone needs the base point's table, built once in each
// process (not counted here, as the benchmark's loop has built it).
func BenchmarkFewSignatures(b *testing.B) {
	t := &testing.T{}
	for _, n := range []int{1, 2, 4, 8} {
		pubs, hashes, sigs := signedHashes(t, n)
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) {
			for b.Loop() {
				if !batchOf(pubs, hashes, sigs).verify() {
					b.Fatal("a valid batch failed")
				}
			}
		})
		b.Run(fmt.Sprintf("alone-%d", n), func(b *testing.B) {
			for b.Loop() {
				for i := range pubs {
					if !domain.CheckSignature(pubs[i], hashes[i], sigs[i]) {
						b.Fatal("a valid signature failed")
					}
				}
			}
		})
	}
}
