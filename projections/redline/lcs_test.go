package redline

import (
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// refLCS is the length of a longest common subsequence of xs and ys, by the
// textbook dynamic programme.
func refLCS(xs, ys []rune) int {
	prev, cur := make([]int, len(ys)+1), make([]int, len(ys)+1)
	for i := range xs {
		for j := range ys {
			switch {
			case xs[i] == ys[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(ys)]
}

// keptRunes counts the tokens that diffs keep equal, and those of them
// that are words (word, by token id; nil: all).
func keptRunes(diffs []diffmatchpatch.Diff, word []bool) (tokens, words int) {
	for _, d := range diffs {
		if d.Type != diffmatchpatch.DiffEqual {
			continue
		}
		for _, r := range d.Text {
			tokens++
			if id := runeToID(r); word == nil || word[id] {
				words++
			}
		}
	}
	return tokens, words
}

// lcsCases are pairs of token sequences on which the bit-parallel LCS is
// easy to get wrong: empty, one token, lengths about multiples of 64 (the
// carries between words), repetitions, equal and disjoint texts.
func lcsCases(rng *rand.Rand) [][2][]rune {
	rep := func(k, n int) []rune { return slices.Repeat([]rune{idToRune(k)}, n) }
	cases := [][2][]rune{
		{nil, nil},
		{nil, randomRunes(rng, 5, 3)},
		{randomRunes(rng, 5, 3), nil},
		{rep(0, 1), rep(0, 1)},
		{rep(0, 1), rep(1, 1)},
		{rep(0, 200), rep(0, 130)},
		{rep(0, 64), rep(0, 64)},
		{rep(0, 65), rep(1, 65)},
		{randomRunes(rng, 128, 1), randomRunes(rng, 129, 1)},
		{append(rep(0, 63), rep(1, 70)...), append(rep(1, 70), rep(0, 63)...)},
		{append(rep(1, 64), rep(0, 65)...), append(rep(0, 65), rep(1, 64)...)},
	}
	for _, n := range []int{1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 300} {
		for _, k := range []int{1, 2, 4, 20, 1000} {
			xs := randomRunes(rng, n, k)
			cases = append(cases,
				[2][]rune{xs, randomRunes(rng, rng.Intn(2*n+1), k)},
				[2][]rune{xs, slices.Clone(xs)},
				[2][]rune{xs, editRunes(rng, xs, k)},
				[2][]rune{xs, slices.Concat(xs[n/2:], xs[:n/2])})
		}
	}
	return cases
}

// TestLCSLength: the bit-parallel LCS has the length of the textbook one,
// and keeps at least as many tokens as the Myers port (which its
// half-match heuristic can leave short of a longest).
func TestLCSLength(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for n, c := range lcsCases(rng) {
		xs, ys := c[0], c[1]
		m := differ{xs: xs, ys: ys}
		var tab lcsTable
		got, ok := m.lcsTable(&tab, 0, len(xs), 0, len(ys), 0)
		if !ok {
			t.Fatalf("case %d: lcsTable declined %d and %d tokens", n, len(xs), len(ys))
		}
		if want := refLCS(xs, ys); got != want {
			t.Fatalf("case %d: %d and %d tokens: LCS %d, want %d", n, len(xs), len(ys), got, want)
		}
		for i := 0; i <= len(xs); i += 1 + len(xs)/7 {
			for j := 0; j <= len(ys); j += 1 + len(ys)/7 {
				if p, want := tab.prefix(i, j), refLCS(xs[:i], ys[:j]); p != want {
					t.Fatalf("case %d: prefix(%d, %d) = %d, want %d", n, i, j, p, want)
				}
			}
		}
		if kept, _ := keptRunes(portDiffMain(xs, ys), nil); kept > got {
			t.Fatalf("case %d: the port keeps %d tokens, more than the LCS %d", n, kept, got)
		}
		for _, r := range m.slot {
			if r != 0 {
				t.Fatalf("case %d: slot table left dirty", n)
			}
		}
	}
}

// checkAlignDiff asserts what alignDiff promises: the port's diff, op for
// op, when xs and ys differ by fewer than minD tokens; otherwise a faithful
// diff keeping a longest common subsequence. word marks the word tokens
// (nil: all are).
func checkAlignDiff(t *testing.T, xs, ys []rune, minD int, word []bool) {
	t.Helper()
	m := differ{minD: minD, word: word}
	got := diffsOf(m.alignDiff(xs, ys, time.Now().Add(time.Hour)), xs, ys)
	lcs := refLCS(xs, ys)
	if len(xs)+len(ys)-2*lcs < minD {
		if want := portDiffMain(xs, ys); !slices.Equal(want, got) {
			t.Fatalf("%d and %d tokens, D %d < %d: port %v\nalignDiff %v", len(xs), len(ys), len(xs)+len(ys)-2*lcs, minD, want, got)
		}
		return
	}
	if !faithfulDiff(got, xs, ys) {
		t.Fatalf("%d and %d tokens: alignDiff %v does not rebuild them", len(xs), len(ys), got)
	}
	if kept, _ := keptRunes(got, nil); kept != lcs {
		t.Fatalf("%d and %d tokens: alignDiff keeps %d, LCS %d: %v", len(xs), len(ys), kept, lcs, got)
	}
	for k := 1; k < len(got); k++ {
		if got[k-1].Type == got[k].Type {
			t.Fatalf("alignDiff gives neighbours of the same kind: %v", got)
		}
		if got[k-1].Type == diffmatchpatch.DiffInsert && got[k].Type == diffmatchpatch.DiffDelete {
			t.Fatalf("alignDiff gives an insertion before a deletion: %v", got)
		}
	}
}

// TestAlignDiff: on texts that differ by little alignDiff is go-diff's
// diff; on texts that differ by much it keeps a longest common subsequence,
// with or without word tokens marked.
func TestAlignDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, c := range lcsCases(rng) {
		for _, minD := range []int{1, 8, bitParallelMinD} {
			checkAlignDiff(t, c[0], c[1], minD, nil)
		}
	}
	for i := range 3000 {
		k := []int{2, 3, 5, 20, 200}[i%5]
		word := make([]bool, k)
		for w := range word {
			word[w] = w%2 == 0
		}
		xs, ys := randomPair(rng, i, 300, k)
		checkAlignDiff(t, xs, ys, bitParallelMinD, word)
		checkAlignDiff(t, xs, ys, 1+rng.Intn(100), nil)
	}
}

// TestAlignDiffTooLarge: past maxLCSWords alignDiff is the port's diff.
func TestAlignDiffTooLarge(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	xs, ys := randomRunes(rng, 7000, 50), randomRunes(rng, 7000, 50)
	m := differ{}
	got := m.alignDiff(xs, ys, time.Now().Add(time.Hour))
	var p differ
	if want := p.mainDiff(xs, ys, time.Now().Add(time.Hour)); !slices.Equal(want, got) {
		t.Fatalf("alignDiff of 7000 tokens a side is not the port's")
	}
}
