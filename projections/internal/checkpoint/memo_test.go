package checkpoint

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

// Every kind of memo comes back as packed: empty, short, text that
// compresses, bytes that do not.
func TestPackMemo(t *testing.T) {
	random := make([]byte, 5000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	text := []byte(strings.Repeat("Article 1. The Parties shall meet in Berlin [UA: every month]. ", 2000))
	for name, value := range map[string][]byte{
		"empty":  {},
		"byte":   {'x'},
		"short":  []byte("Article 1."),
		"text":   text,
		"random": random,
	} {
		packed := packMemo(value)
		got := unpackMemo(packed)
		if got == nil || !bytes.Equal(got, value) {
			t.Errorf("%s: %d bytes packed into %d read back as %d (nil: %v)", name, len(value), len(packed), len(got), got == nil)
		}
		if len(packed) > len(value)+binary.MaxVarintLen64 {
			t.Errorf("%s: %d bytes packed into %d", name, len(value), len(packed))
		}
	}
	if p := packMemo(text); len(p) > len(text)/10 {
		t.Errorf("repeated text of %d bytes packed into %d", len(text), len(p))
	}
}

// What packMemo did not write is refused, not read as a memo: a length
// that lies, a block cut short or altered, a length over maxMemo.
func TestUnpackMemoRefuses(t *testing.T) {
	text := []byte(strings.Repeat("The Parties shall meet in Berlin. ", 500))
	packed := packMemo(text)
	k := binary.PutUvarint(make([]byte, binary.MaxVarintLen64), uint64(len(text)))
	cases := map[string][]byte{
		"nothing":          nil,
		"length only":      packed[:k],
		"cut short":        packed[:len(packed)-3],
		"length too long":  append(binary.AppendUvarint(nil, uint64(len(text)+1)), packed[k:]...),
		"length too short": append(binary.AppendUvarint(nil, uint64(len(text)-1)), packed[k:]...),
		"over maxMemo":     append(binary.AppendUvarint(nil, maxMemo+1), packed[k:]...),
		"raw, longer":      append(binary.AppendUvarint(nil, 2), "abc"...),
		"bad varint":       bytes.Repeat([]byte{0xff}, 11),
	}
	for name, b := range cases {
		if got := unpackMemo(b); got != nil {
			t.Errorf("%s: read as a memo of %d bytes", name, len(got))
		}
	}
}

// Whatever the store holds, reading it as a memo neither panics nor
// allocates past maxMemo, and packing any value reads it back.
func FuzzPackMemo(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("Article 1. Article 1. Article 1."))
	f.Add(packMemo([]byte(strings.Repeat("Berlin ", 100))))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got := unpackMemo(packMemo(b)); !bytes.Equal(got, b) || got == nil {
			t.Fatalf("%d bytes read back as %d", len(b), len(got))
		}
		if got := unpackMemo(b); len(got) > maxMemo {
			t.Fatalf("%d bytes read as a memo of %d", len(b), len(got))
		}
	})
}
