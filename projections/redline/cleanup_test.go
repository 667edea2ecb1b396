package redline

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

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
