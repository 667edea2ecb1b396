package redline

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// goDiffTrials is how many random diffs a port is held to go-diff on.
func goDiffTrials() int {
	if testing.Short() {
		return 10000
	}
	return 100000
}

// TestCleanupMergeMatchesGoDiff holds cleanupMerge to go-diff's
// DiffCleanupMerge on any diff of two token sequences given as spans that
// follow each other, as cleanupSpans hands it the stretches between the
// equalities kept for their words: runs of each kind in any order, some
// empty, some tokens repeated.
func TestCleanupMergeMatchesGoDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	dmp := diffmatchpatch.New()
	n := goDiffTrials()
	for k := range n {
		alphabet := 1 + rng.Intn(6)
		var xs, ys []rune
		var spans []span
		for range rng.Intn(10) {
			op := []diffmatchpatch.Operation{diffmatchpatch.DiffEqual, diffmatchpatch.DiffDelete, diffmatchpatch.DiffInsert}[rng.Intn(3)]
			c := rng.Intn(4)
			if k%2 == 0 {
				c++ // no empty span
			}
			spans = append(spans, span{op, c, len(xs), len(ys)})
			for range c {
				r := idToRune(rng.Intn(alphabet))
				if op != diffmatchpatch.DiffInsert {
					xs = append(xs, r)
				}
				if op != diffmatchpatch.DiffDelete {
					ys = append(ys, r)
				}
			}
		}
		want := dmp.DiffCleanupMerge(diffsOf(spans, xs, ys))
		m := differ{xs: xs, ys: ys, deadline: time.Now().Add(time.Hour)}
		got := diffsOf(m.cleanupMerge(append([]span(nil), spans...), len(xs), len(ys)), xs, ys)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("cleanupMerge(%v) = %q, DiffCleanupMerge gives %q", spans, got, want)
		}
	}
}

// TestLosslessSlideMatchesGoDiff holds losslessSlide to go-diff's
// DiffCleanupSemanticLossless on diffs of code points three bytes long:
// any kinds in any order, equalities side by side, edits that repeat the
// equalities around them.
func TestLosslessSlideMatchesGoDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	dmp := diffmatchpatch.New()
	n := goDiffTrials()
	ops := []diffmatchpatch.Operation{diffmatchpatch.DiffEqual, diffmatchpatch.DiffDelete, diffmatchpatch.DiffInsert}
	for range n {
		alphabet := 1 + rng.Intn(4)
		var diffs []diffmatchpatch.Diff
		for k := range 1 + rng.Intn(8) {
			op := ops[rng.Intn(3)]
			if k%2 == 0 && rng.Intn(4) > 0 {
				op = diffmatchpatch.DiffEqual
			}
			rs := make([]rune, 1+rng.Intn(5))
			for i := range rs {
				rs[i] = idToRune(rng.Intn(alphabet))
			}
			diffs = append(diffs, diffmatchpatch.Diff{Type: op, Text: string(rs)})
		}
		if !threeByteRunes(diffs) {
			t.Fatalf("threeByteRunes(%q) = false", diffs)
		}
		in := fmt.Sprint(diffs)
		want := fmt.Sprint(dmp.DiffCleanupSemanticLossless(slices.Clone(diffs)))
		if got := fmt.Sprint(losslessSlide(slices.Clone(diffs))); got != want {
			t.Fatalf("losslessSlide(%s) = %s, DiffCleanupSemanticLossless gives %s", in, got, want)
		}
	}
	for _, d := range [][]diffmatchpatch.Diff{
		{{Type: diffmatchpatch.DiffEqual, Text: ""}},
		{{Type: diffmatchpatch.DiffEqual, Text: "a\uE000"}},
		{{Type: diffmatchpatch.DiffEqual, Text: "\U000F0000"}},
		{{Type: diffmatchpatch.DiffEqual, Text: "\xee\x80"}},
	} {
		if threeByteRunes(d) {
			t.Errorf("threeByteRunes(%q) = true", d)
		}
	}
}

// TestRune3 holds rune3 to utf8.DecodeRuneInString on every first two bytes,
// with third bytes on both sides of the continuation range, and on strings
// too short.
func TestRune3(t *testing.T) {
	for _, s := range []string{"", "\xe0", "\xee\x80"} {
		if rune3(s) {
			t.Errorf("rune3(%q) = true", s)
		}
	}
	for b0 := range 256 {
		for b1 := range 256 {
			for _, b2 := range []byte{0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xff} {
				s := string([]byte{byte(b0), byte(b1), b2, 'x'})
				_, size := utf8.DecodeRuneInString(s)
				if got := rune3(s); got != (size == 3) {
					t.Fatalf("rune3(%q) = %v, utf8.DecodeRuneInString's size %d", s, got, size)
				}
			}
		}
	}
}

// TestEncode holds runeText's encoding, which writes the code points of
// three bytes itself, to utf8.AppendRune on code points at the edges of
// each length, surrogates and values that are no code point.
func TestEncode(t *testing.T) {
	var e runeText
	rs := []rune{0, 'a', 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdfff, 0xe000, 0xf8ff, 0xffff, 0x10000, 0x10ffff, -1, 0x110000}
	e.encode(rs)
	var want []byte
	for _, r := range rs {
		want = utf8.AppendRune(want, r)
	}
	if e.s != string(want) {
		t.Fatalf("encode(%U) = %q, utf8.AppendRune gives %q", rs, e.s, want)
	}
}

// TestValidRuneCount holds validRuneCount to utf8.RuneCountInString on
// valid UTF-8 of every length of code point.
func TestValidRuneCount(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	pick := []rune{'a', 'é', 'д', '\uE000', '\uF8FF', '\U000F0000', '\U0010FFFD'}
	for range 2000 {
		rs := make([]rune, rng.Intn(12))
		for i := range rs {
			rs[i] = pick[rng.Intn(len(pick))]
		}
		s := string(rs)
		if got, want := validRuneCount(s), utf8.RuneCountInString(s); got != want {
			t.Fatalf("validRuneCount(%q) = %d, want %d", s, got, want)
		}
	}
}
