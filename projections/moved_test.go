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
	for trial := range 400 {
		n := 1 + rng.Intn(12)
		if trial%50 == 0 {
			n = 150
		}
		var before, after []listedClause
		for i := range n {
			before = append(before, listedClause{id: fmt.Sprintf("c%d", i), agreed: rng.Intn(8) != 0})
		}
		after = slices.Clone(before)
		for range rng.Intn(4) {
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
	if moves < 100 {
		t.Fatalf("only %d of 400 shuffles moved a clause", moves)
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
