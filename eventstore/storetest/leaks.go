package storetest

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// OpenReads tells Run how to count what s holds open for reads: read
// transactions, and connections taken for a read or a subscription and
// not given back. The subtests that stop iterations early check that the
// count, taken once they have ended, is no higher than before them. Without
// it they watch the goroutines of the process alone, which shows a read
// left running but not a connection or transaction left open.
func OpenReads(count func(s eventstore.Store) int) Option {
	return func(c *config) { c.openReads = count }
}

// Leak checks: after leakRounds early stops, a store may run at most
// goroutineSlack more goroutines than before (a pool that grew by a few is
// no leak; one goroutine per stop is), and hold no more open reads. What an
// early stop ends may take a moment to go: the count is taken again until
// it is back, for up to promptly.
const (
	leakRounds     = 50
	goroutineSlack = 5
)

// held is what a store holds that an early stop could leak.
type held struct {
	goroutines int
	reads      int // 0 without OpenReads
}

func (h held) String() string {
	return fmt.Sprintf("%d goroutines and %d open reads", h.goroutines, h.reads)
}

func (cfg *config) held(s eventstore.Store) held {
	h := held{goroutines: runtime.NumGoroutine()}
	if cfg.openReads != nil {
		h.reads = cfg.openReads(s)
	}
	return h
}

// leakWatch notes what s holds now; its check fails t if s then holds more
// than that, and goes on holding it.
type leakWatch struct {
	cfg    *config
	s      eventstore.Store
	before held
}

// watchLeaks starts a leakWatch. Call it after the subtest has used s once
// the way it is about to use it many times, so that what a store keeps for
// its lifetime (a connection, its goroutines) is there before.
func (cfg *config) watchLeaks(s eventstore.Store) leakWatch {
	return leakWatch{cfg: cfg, s: s, before: cfg.held(s)}
}

// check fails t if s holds more than before, after what.
func (w leakWatch) check(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(promptly)
	for {
		now := w.cfg.held(w.s)
		if now.goroutines <= w.before.goroutines+goroutineSlack && now.reads <= w.before.reads {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s the store holds %v, where it held %v before: each stop leaves something behind", what, now, w.before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
