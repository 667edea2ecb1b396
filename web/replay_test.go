package web

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/treaty-engine/treaty/projections"
)

// A replay asked for while another of the same question runs waits for it,
// and the first to go next replays the log as it then stands, which answers
// the others: events that move the head on while a replay runs cost one
// more replay, not one each.
func TestReplaysOfAQuestionWaitForEachOther(t *testing.T) {
	var g replayGate
	var head atomic.Int64
	head.Store(1)
	headNow := func() projections.Point { return projections.Point{Event: int(head.Load())} }
	var replays, running, most atomic.Int32
	release := make(chan struct{})
	replay := func() (any, error) {
		n := replays.Add(1)
		if r := running.Add(1); r > most.Load() {
			most.Store(r)
		}
		defer running.Add(-1)
		if n == 1 {
			<-release
		}
		return int(head.Load()), nil
	}
	var wg sync.WaitGroup
	answers := make([]any, 3)
	started := make(chan struct{})
	wg.Go(func() {
		close(started)
		answers[0], _ = g.replay(1, headNow, replay)
	})
	<-started
	for replays.Load() == 0 { // the first replay is under way
	}
	head.Store(3) // two events appended meanwhile, each a head asked for
	for i, h := range []int{2, 3} {
		wg.Go(func() { answers[i+1], _ = g.replay(h, headNow, replay) })
	}
	close(release)
	wg.Wait()
	if n := replays.Load(); n != 2 {
		t.Fatalf("%d replays for three heads asked for while the first ran; want 2", n)
	}
	if most.Load() != 1 {
		t.Fatalf("%d replays of one question ran at once", most.Load())
	}
	if answers[1] != 3 || answers[2] != 3 {
		t.Fatalf("the heads asked for while the first replay ran got %v and %v; want the log as it stood after (3)", answers[1], answers[2])
	}
	// A head the last replay began at or after is answered without one.
	if v, _ := g.replay(3, headNow, replay); v != 3 || replays.Load() != 2 {
		t.Fatalf("asked again at the same head: %v after %d replays", v, replays.Load())
	}
}
