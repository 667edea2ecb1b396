package storetest

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// OpenReads tells Run how to count what s holds open for reads: read
// transactions, and connections taken for a read or a subscription and
// not given back. The subtests that stop iterations early check that the
// count, taken once they have ended, is no higher than before them. Without
// it they watch the store's goroutines alone, which shows a read left
// running but not a connection or transaction left open.
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

// ownerLabel is the profiler label (runtime/pprof) that Run puts on each
// subtest's goroutine, set to the subtest's name. Every goroutine the
// subtest starts carries it, and every goroutine those start: its store's
// pools, readers and subscriptions, opened by the subtest. The leak checks
// count those, not the process's, where the tests of a package that run
// beside one another (the PostgreSQL suites, a server's restart) come and
// go.
const ownerLabel = "treaty-storetest"

// own labels the calling goroutine, and the goroutines it starts from now
// on, as t's (see ownerLabel).
func own(t testing.TB) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels(ownerLabel, t.Name())))
}

// goroutinesOf counts the goroutines labelled as owner's (see own), as the
// goroutine profile lists them: each stack with its count, followed by its
// labels.
func goroutinesOf(owner string) int {
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		panic(err) // a strings.Builder takes every write
	}
	label := fmt.Sprintf("%q:%q", ownerLabel, owner)
	n, count := 0, 0
	for line := range strings.Lines(b.String()) {
		if c, _, ok := strings.Cut(line, " @"); ok {
			if k, err := strconv.Atoi(c); err == nil {
				count = k
				continue
			}
		}
		if labels, ok := strings.CutPrefix(line, "# labels: "); ok && strings.Contains(labels, label) {
			n += count
		}
	}
	return n
}

// held is what a store holds that an early stop could leak.
type held struct {
	goroutines int
	reads      int // 0 without OpenReads
}

func (h held) String() string {
	return fmt.Sprintf("%d goroutines and %d open reads", h.goroutines, h.reads)
}

// held counts what s holds, its goroutines being owner's.
func (cfg *config) held(s eventstore.Store, owner string) held {
	h := held{goroutines: goroutinesOf(owner)}
	if cfg.openReads != nil {
		h.reads = cfg.openReads(s)
	}
	return h
}

// leakWatch notes what s holds now; its check fails t if s then goes on
// holding more than that (goroutineSlack aside).
type leakWatch struct {
	cfg    *config
	s      eventstore.Store
	owner  string
	before held
}

// watchLeaks starts a leakWatch of the store of t, a subtest of Run. Call
// it after the subtest has used s once the way it is about to use it many
// times, so that what a store keeps for its lifetime (a connection, its
// goroutines) is there before.
func (cfg *config) watchLeaks(t testing.TB, s eventstore.Store) leakWatch {
	return leakWatch{cfg: cfg, s: s, owner: t.Name(), before: cfg.held(s, t.Name())}
}

// check fails t, after what, if s holds more than before (goroutineSlack
// aside) for longer than promptly.
func (w leakWatch) check(t *testing.T, what string) {
	t.Helper()
	if now, ok := w.settle(promptly); !ok {
		t.Fatalf("%s the store holds %v, where it held %v before: each stop leaves something behind", what, now, w.before)
	}
}

// settle waits up to wait for s to hold no more than before (goroutineSlack
// aside), and returns what it holds then and whether that is so.
func (w leakWatch) settle(wait time.Duration) (held, bool) {
	deadline := time.Now().Add(wait)
	for {
		now := w.cfg.held(w.s, w.owner)
		if now.goroutines <= w.before.goroutines+goroutineSlack && now.reads <= w.before.reads {
			return now, true
		}
		if time.Now().After(deadline) {
			return now, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
