package projections

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// TestMovedClausesLCS: the clauses movedClauses says moved are those off
// the longest common subsequence of the two orders that the classic table
// walks to, preferring to pass over a clause of the earlier order, as
// worked out here on the IDs themselves, for shuffles small and large,
// clauses in brackets and ones on one side only among them.
func TestMovedClausesLCS(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	moves := 0
	for trial := range 600 {
		n := 1 + rng.Intn(12)
		switch {
		case trial%50 == 0:
			n = 150
		case trial%5 == 0:
			// Across words of 64 columns, shuffled more.
			n = 60 + rng.Intn(200)
		}
		var before, after []listedClause
		for i := range n {
			before = append(before, listedClause{id: fmt.Sprintf("c%d", i), agreed: rng.Intn(8) != 0})
		}
		after = slices.Clone(before)
		swaps := rng.Intn(4)
		if n > 12 {
			swaps = rng.Intn(n / 2)
		}
		for range swaps {
			i, j := rng.Intn(n), rng.Intn(n)
			after[i], after[j] = after[j], after[i]
		}
		if rng.Intn(3) == 0 {
			after = append(after[:0:0], after[1:]...)
			after = append(after, listedClause{id: "new", agreed: true})
		}
		want := movedByTable(before, after)
		if len(want) > 0 {
			moves++
		}
		if got := movedClauses(before, after); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%v to %v: moved %v, want %v", ids(before), ids(after), got, want)
		}
	}
	if moves < 150 {
		t.Fatalf("only %d of 600 shuffles moved a clause", moves)
	}
}

func ids(cs []listedClause) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s%v", c.id, map[bool]string{true: "", false: "[]"}[c.agreed]))
	}
	return out
}

// movedByTable is movedClauses as first written: the table over the IDs.
func movedByTable(before, after []listedClause) map[string]bool {
	agreed := func(cs []listedClause) map[string]bool {
		m := map[string]bool{}
		for _, c := range cs {
			if c.agreed {
				m[c.id] = true
			}
		}
		return m
	}
	inAfter, inBefore := agreed(after), map[string]bool{}
	var a, b []string
	for _, c := range before {
		if c.agreed && inAfter[c.id] {
			a, inBefore[c.id] = append(a, c.id), true
		}
	}
	for _, c := range after {
		if inBefore[c.id] {
			b = append(b, c.id)
		}
	}
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	stay := map[string]bool{}
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			stay[a[i]] = true
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			j++
		}
	}
	moved := map[string]bool{}
	for _, id := range a {
		if !stay[id] {
			moved[id] = true
		}
	}
	return moved
}

// BenchmarkMovedClauses: the orders of a draft of 200 agreed clauses before
// and after 20 of them moved, as a compare of distant rounds finds them.
func BenchmarkMovedClauses(b *testing.B) {
	rng := rand.New(rand.NewSource(3))
	var before []listedClause
	for i := range 200 {
		before = append(before, listedClause{id: fmt.Sprintf("clause-%03d", i), agreed: true})
	}
	after := slices.Clone(before)
	for range 20 {
		i := rng.Intn(len(after))
		c := after[i]
		after = slices.Delete(after, i, i+1)
		after = slices.Insert(after, rng.Intn(len(after)+1), c)
	}
	moved := 0
	for b.Loop() {
		moved = len(movedClauses(before, after))
	}
	b.ReportMetric(float64(moved), "moved")
}
