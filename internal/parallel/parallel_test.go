package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// Every piece is done once, however many pieces and cores, before Each
// returns.
func TestEach(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 2, 3, 100} {
			done := make([]atomic.Int32, n)
			Each(n, func(i int) { done[i].Add(1) })
			for i := range done {
				if got := done[i].Load(); got != 1 {
					t.Fatalf("%d cores, %d pieces: piece %d done %d times", procs, n, i, got)
				}
			}
		}
	}
}
