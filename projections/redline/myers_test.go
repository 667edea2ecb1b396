package redline

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// goDiffMain is what the port stands in for.
func goDiffMain(xs, ys []rune) []diffmatchpatch.Diff {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = time.Hour
	return dmp.DiffMainRunes(xs, ys, false)
}

func portDiffMain(xs, ys []rune) []diffmatchpatch.Diff {
	var m differ
	return diffsOf(m.mainDiff(xs, ys, time.Now().Add(time.Hour)), xs, ys)
}

// randomRunes draws n code points from an alphabet of k.
func randomRunes(rng *rand.Rand, n, k int) []rune {
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = idToRune(rng.Intn(k))
	}
	return rs
}

// editRunes changes a few runs of rs: what amendments do to a text.
func editRunes(rng *rand.Rand, rs []rune, k int) []rune {
	out := slices.Clone(rs)
	for range 1 + rng.Intn(4) {
		i := rng.Intn(len(out) + 1)
		switch rng.Intn(3) {
		case 0:
			out = slices.Insert(out, i, randomRunes(rng, 1+rng.Intn(5), k)...)
		case 1:
			out = slices.Delete(out, i, min(len(out), i+1+rng.Intn(5)))
		default:
			if i < len(out) {
				out[i] = idToRune(rng.Intn(k))
			}
		}
	}
	return out
}

// randomPair is the ith of a series of pairs of up to n tokens over k:
// unrelated, one an edit of the other, or sharing their first half.
func randomPair(rng *rand.Rand, i, n, k int) (xs, ys []rune) {
	xs = randomRunes(rng, rng.Intn(n), k)
	switch i % 3 {
	case 0:
		ys = randomRunes(rng, rng.Intn(n), k)
	case 1:
		ys = editRunes(rng, xs, k)
	default:
		ys = append(slices.Clone(xs[:len(xs)/2]), randomRunes(rng, rng.Intn(n/3), k)...)
	}
	return xs, ys
}

// TestMainMatchesGoDiff holds the port to go-diff's DiffMainRunes, diff for
// diff, on unrelated texts, edited ones and repetitive ones, over small and
// large alphabets.
func TestMainMatchesGoDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := range 3000 {
		k := []int{1, 2, 3, 5, 20, 200}[i%6]
		xs, ys := randomPair(rng, i, 120, k)
		want, got := goDiffMain(xs, ys), portDiffMain(xs, ys)
		if !slices.Equal(want, got) {
			t.Fatalf("case %d: %d and %d tokens over %d:\ngo-diff %v\nport    %v", i, len(xs), len(ys), k, want, got)
		}
	}
}

// FuzzMainMatchesGoDiff holds the port to go-diff, and alignDiff to the
// port where the texts differ by little (see checkAlignDiff).
func FuzzMainMatchesGoDiff(f *testing.F) {
	f.Add([]byte("abcab"), []byte("cbabac"))
	f.Add([]byte(""), []byte("x"))
	f.Add([]byte("aaaa"), []byte("aa"))
	f.Add([]byte("abcdefgh"), []byte("xxabcdyyefgh"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(a) > 400 || len(b) > 400 {
			return
		}
		toRunes := func(bs []byte) []rune {
			rs := make([]rune, len(bs))
			for i, c := range bs {
				rs[i] = idToRune(int(c % 8))
			}
			return rs
		}
		xs, ys := toRunes(a), toRunes(b)
		if want, got := goDiffMain(xs, ys), portDiffMain(xs, ys); !slices.Equal(want, got) {
			t.Fatalf("go-diff %v\nport    %v", want, got)
		}
		// What Words uses instead: the port's diff where the texts differ
		// by fewer than the threshold, otherwise one that keeps a longest
		// common subsequence, words or not.
		word := []bool{true, false, true, false, true, true, false, true}
		checkAlignDiff(t, xs, ys, bitParallelMinD, word)
		checkAlignDiff(t, xs, ys, 1+len(a)%100, nil)
	})
}
