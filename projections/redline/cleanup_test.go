package redline

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// TestCleanupMergeMatchesGoDiff holds cleanupMerge to go-diff's
// DiffCleanupMerge on any diff of two token sequences given as spans that
// follow each other, as cleanupSpans hands it the stretches between the
// equalities kept for their words: runs of each kind in any order, some
// empty, some tokens repeated.
func TestCleanupMergeMatchesGoDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	dmp := diffmatchpatch.New()
	n := 100000
	if testing.Short() {
		n = 10000
	}
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
