package redline

import (
	"math/rand"
	"testing"
)

// lcsDP is the textbook dynamic programme lcs.len stands in for.
func lcsDP(xs, ys []int32) int {
	prev := make([]int, len(ys)+1)
	cur := make([]int, len(ys)+1)
	for i := range xs {
		for j := range ys {
			if xs[i] == ys[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(ys)]
}

func TestLCSLen(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := range 2000 {
		k := []int{1, 2, 4, 30, 300}[i%5]
		draw := func(n int) []int32 {
			s := make([]int32, n)
			for j := range s {
				s[j] = int32(rng.Intn(k))
			}
			return s
		}
		// Across the 64-bit word boundaries too.
		xs, ys := draw(rng.Intn(200)), draw(rng.Intn(200))
		var l lcs
		if got, want := l.len(xs, ys, k), lcsDP(xs, ys); got != want {
			t.Fatalf("lcs.len of %d and %d elements over %d = %d, want %d", len(xs), len(ys), k, got, want)
		}
	}
}
