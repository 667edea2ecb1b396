package domain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// TestSignMatchesCrypto holds the hand-written signer to crypto/ed25519:
// the same public key from every seed, the same signature of every message.
func TestSignMatchesCrypto(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	seeds := [][]byte{make([]byte, 32), bytes.Repeat([]byte{0xff}, 32)}
	for range 300 {
		seed := make([]byte, 32)
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		seeds = append(seeds, seed)
	}
	for i, seed := range seeds {
		want := ed25519.NewKeyFromSeed(seed)
		got := KeyFromSeed(seed)
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d: KeyFromSeed = %x, crypto/ed25519 gives %x", i, got, want)
		}
		msg := make([]byte, rng.IntN(3)*32+rng.IntN(2)) // 0, 1, 32, 33, 64, 65 bytes
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		sig := signBytes(got, msg)
		if want := ed25519.Sign(want, msg); !bytes.Equal(sig, want) {
			t.Fatalf("seed %d, message %x: signature %x, crypto/ed25519 gives %x", i, msg, sig, want)
		}
		if !ed25519.Verify(got.Public().(ed25519.PublicKey), msg, sig) {
			t.Fatalf("seed %d: crypto/ed25519 rejects the signature", i)
		}
	}
}

// TestSignRefusesShortKey: a key of the wrong length is an error, not a
// panic or a signature.
func TestSignRefusesShortKey(t *testing.T) {
	hash := "00000000000000000000000000000000000000000000000000000000000000ff"
	if _, err := Sign(make(ed25519.PrivateKey, 32), hash); err == nil {
		t.Fatal("a 32-byte private key was accepted")
	}
}

func FuzzSign(f *testing.F) {
	f.Add(make([]byte, 32), []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 32), []byte("an event hash of thirty-two byte"))
	f.Fuzz(func(t *testing.T, input, msg []byte) {
		h := sha256.Sum256(input) // every input a seed
		seed := h[:]
		want := ed25519.NewKeyFromSeed(seed)
		if got := KeyFromSeed(seed); !bytes.Equal(got, want) {
			t.Fatalf("KeyFromSeed(%x) = %x, crypto/ed25519 gives %x", seed, got, want)
		}
		if got, want := signBytes(want, msg), ed25519.Sign(want, msg); !bytes.Equal(got, want) {
			t.Fatalf("signature %x, crypto/ed25519 gives %x", got, want)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	priv := KeyFromSeed(make([]byte, 32))
	msg := make([]byte, 32)
	for b.Loop() {
		signBytes(priv, msg)
	}
}
