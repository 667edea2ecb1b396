package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/treaty-engine/treaty/domain"
)

// Every kind of value comes back as packed: empty, short, text that
// compresses, bytes that do not.
func TestPack(t *testing.T) {
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
		packed := pack(nil, value)
		got := unpack(packed, maxMemo)
		if got == nil || !bytes.Equal(got, value) {
			t.Errorf("%s: %d bytes packed into %d read back as %d (nil: %v)", name, len(value), len(packed), len(got), got == nil)
		}
		if len(packed) > len(value)+binary.MaxVarintLen64 {
			t.Errorf("%s: %d bytes packed into %d", name, len(value), len(packed))
		}
	}
	if p := pack(nil, text); len(p) > len(text)/10 {
		t.Errorf("repeated text of %d bytes packed into %d", len(text), len(p))
	}
}

// What pack did not write is refused: a length that lies, a block cut
// short, a length over the bound.
func TestUnpackRefuses(t *testing.T) {
	text := []byte(strings.Repeat("The Parties shall meet in Berlin. ", 500))
	packed := pack(nil, text)
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
		if got := unpack(b, maxMemo); got != nil {
			t.Errorf("%s: unpacked into %d bytes", name, len(got))
		}
	}
}

// Whatever the store holds, unpacking it neither panics nor allocates
// past its bound, and packing any value reads it back.
func FuzzPack(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("Article 1. Article 1. Article 1."))
	f.Add(pack(nil, []byte(strings.Repeat("Berlin ", 100))))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got := unpack(pack(nil, b), maxMemo); !bytes.Equal(got, b) || got == nil {
			t.Fatalf("%d bytes read back as %d", len(b), len(got))
		}
		if got := unpack(b, maxMemo); len(got) > maxMemo {
			t.Fatalf("%d bytes unpacked into %d", len(b), len(got))
		}
	})
}

// A head checkpoint and a round's are stored packed, and read back as the
// state saved.
func TestCheckpointsPacked(t *testing.T) {
	n := sample(t)
	for i := range 40 {
		n.agree(fmt.Sprintf("long%d", i), strings.Repeat(fmt.Sprintf("The Parties shall meet in Berlin, round %d. ", i), 20))
	}
	cache := newCounting()
	cs := n.store(cache)
	if err := cs.SaveHead(ctx, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	if err := cs.SaveRound(ctx, 1, &n.s, n.point()); err != nil {
		t.Fatal(err)
	}
	want, err := encodePresent(&n.s, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"head", roundName(1)} {
		raw, err := cache.CacheGet(ctx, cs.key(name))
		if err != nil {
			t.Fatal(err)
		}
		_, packed, ok := decodeHeader(raw)
		if !ok {
			t.Fatalf("%s: no header", name)
		}
		present := unpack(packed[:len(packed)-sha256.Size], maxPresent)
		if present == nil || len(packed) > len(present)/3 {
			t.Fatalf("%s: a state of %d bytes stored in %d", name, len(present), len(packed))
		}
	}
	for name, read := range map[string]func() (*domain.State, Point, bool){
		"head":    func() (*domain.State, Point, bool) { return cs.Head(ctx) },
		"round 1": func() (*domain.State, Point, bool) { return cs.Round(ctx, 1, -1) },
	} {
		st, _, ok := read()
		if !ok {
			t.Fatalf("%s: not read back", name)
		}
		got, err := encodePresent(st, 0, nil, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: read back differs from the state saved (%v)", name, err)
		}
	}
}

// articles is at least n bytes of text that compresses as a treaty does.
func articles(n int) []byte {
	var text []byte
	for i := 0; len(text) < n; i++ {
		text = fmt.Appendf(text, "Article %d. The Parties shall meet in Berlin in round %d. ", i, i%50)
	}
	return text
}

// A large value is packed in a block for each core, and read back whatever
// the cores of the machine that reads it; a block damaged anywhere, or
// missing, fails the whole.
func TestPackBlocks(t *testing.T) {
	text := articles(5 * packBlock)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	packed := pack(nil, text)
	if blocks := len(cut(len(text))); blocks != 4 {
		t.Fatalf("%d bytes cut into %d blocks on 4 cores", len(text), blocks)
	}
	for _, procs := range []int{1, 2, 4, 8} {
		runtime.GOMAXPROCS(procs)
		if got := unpack(packed, maxPresent); !bytes.Equal(got, text) {
			t.Fatalf("packed on 4 cores, read back on %d as %d bytes of %d", procs, len(got), len(text))
		}
	}
	// The last block's last byte (which the MAC beside it, not pack, would
	// refuse), and the last block dropped.
	damaged := bytes.Clone(packed)
	damaged[len(damaged)-1] ^= 0x55
	if got := unpack(damaged, maxPresent); got != nil && bytes.Equal(got, text) {
		t.Fatal("a damaged block read back as the value")
	}
	if got := unpack(packed[:len(packed)/2], maxPresent); got != nil {
		t.Fatalf("half the blocks read back as %d bytes", len(got))
	}
	if small := cut(packBlock); len(small) != 1 {
		t.Fatalf("%d bytes cut into %d blocks", packBlock, len(small))
	}
}

// writeUnpacked writes a packed value a block at a time, none larger than
// streamBlock, and what unpack refuses not at all; a block that fails to
// decompress after the first ends it with errUnpacking, one that fails
// first writes nothing.
func TestWriteUnpacked(t *testing.T) {
	text := articles(5 * streamBlock)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	packed := pack(nil, text)
	var w recordingWriter
	if ok, err := writeUnpacked(&w, packed, maxPresent); !ok || err != nil || !bytes.Equal(bytes.Join(w.writes, nil), text) {
		t.Fatalf("written: %v, %v, %d bytes of %d", ok, err, len(bytes.Join(w.writes, nil)), len(text))
	}
	if len(w.writes) != len(cut(len(text))) || len(w.writes) < 6 {
		t.Fatalf("%d writes for %d blocks", len(w.writes), len(cut(len(text))))
	}
	for _, p := range w.writes {
		if len(p) > streamBlock {
			t.Fatalf("a write of %d bytes", len(p))
		}
	}
	for name, b := range map[string][]byte{"half": packed[:len(packed)/2], "nothing": nil, "a claim": binary.AppendUvarint(nil, 1<<40)} {
		w = recordingWriter{}
		if ok, err := writeUnpacked(&w, b, maxPresent); ok || err != nil || len(w.writes) != 0 {
			t.Fatalf("%s: %v, %v, %d writes", name, ok, err, len(w.writes))
		}
	}
	// A block of 0xff bytes reads as a literal run whose length never
	// ends: LZ4 refuses it.
	_, blocks, _ := packedBlocks(packed, maxPresent)
	broken := func(i int) []byte {
		b := bytes.Clone(packed)
		at := cap(packed) - cap(blocks[i].packed) // where block i's bytes start
		for j := range blocks[i].packed {
			b[at+j] = 0xff
		}
		return b
	}
	w = recordingWriter{}
	if ok, err := writeUnpacked(&w, broken(0), maxPresent); ok || err != nil || len(w.writes) != 0 {
		t.Fatalf("first block broken: %v, %v, %d writes", ok, err, len(w.writes))
	}
	w = recordingWriter{}
	if ok, err := writeUnpacked(&w, broken(len(blocks)-1), maxPresent); !ok || !errors.Is(err, errUnpacking) || len(w.writes) != len(blocks)-1 {
		t.Fatalf("last block broken: %v, %v, %d writes", ok, err, len(w.writes))
	}
}

type recordingWriter struct{ writes [][]byte }

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

// A few bytes that claim a large value are refused before it is allocated,
// and however many cores a machine has, pack makes no more blocks than
// unpack reads.
func TestUnpackBounds(t *testing.T) {
	claim := binary.AppendUvarint(nil, 1<<30)
	claim = binary.AppendUvarint(claim, 1<<30)
	claim = binary.AppendUvarint(claim, 1)
	claim = append(claim, 0x10)
	if allocs := testing.AllocsPerRun(1, func() {
		if unpack(claim, maxPresent) != nil {
			t.Fatal("a 1-byte block read as a gigabyte")
		}
	}); allocs > 1 {
		t.Fatalf("%v allocations refusing it", allocs)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(maxBlocks + 1))
	if n := len(cut((maxBlocks + 1) * packBlock)); n != maxBlocks {
		t.Fatalf("%d blocks on %d cores; unpack reads %d", n, maxBlocks+1, maxBlocks)
	}
}
