package storetest

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/memstore"
)

// TestMemStore runs the suite against the store in memory, the contract
// written as plainly as possible: the suite must pass it, so that it asks
// nothing a backend's own quirks happen to provide.
func TestMemStore(t *testing.T) {
	Run(t, func(t *testing.T) eventstore.Store {
		s := memstore.New()
		t.Cleanup(func() { s.Close() })
		return s
	}, Reopen(func(t *testing.T, s eventstore.Store) eventstore.Store {
		s2 := s.(*memstore.Store).Reopen()
		t.Cleanup(func() { s2.Close() })
		return s2
	}))
}

// TestLeakWatch: the leak check counts the goroutines the subtest started
// (and those they started), not other tests'; it passes a store that grew
// by the slack, and fails one that kept a goroutine for each of leakRounds
// stops, or an open read, until they end.
func TestLeakWatch(t *testing.T) {
	own(t)
	s := memstore.New()
	defer s.Close()
	reads := 0
	cfg := &config{openReads: func(eventstore.Store) int { return reads }}
	// hold starts n goroutines that run until released: as t's, or as
	// another test's would, started by a goroutine of no subtest.
	hold := func(n int, mine bool) (release func()) {
		stop := make(chan struct{})
		var ended sync.WaitGroup
		start := func() {
			for range n {
				ended.Go(func() { <-stop })
			}
		}
		if mine {
			start()
		} else {
			started := make(chan struct{})
			go func() {
				pprof.SetGoroutineLabels(context.Background())
				start()
				close(started)
			}()
			<-started
		}
		return func() { close(stop); ended.Wait() }
	}
	const wait = 100 * time.Millisecond

	w := cfg.watchLeaks(t, s)
	if w.before.goroutines != 1 {
		t.Errorf("the test holds %v before starting any goroutine, where it runs on one", w.before)
	}
	release := hold(goroutineSlack, true)
	if now, ok := w.settle(wait); !ok || now.goroutines != 1+goroutineSlack {
		t.Errorf("%d goroutines more (the slack): %v (passed %v), before %v", goroutineSlack, now, ok, w.before)
	}
	release()

	release = hold(leakRounds, false)
	if now, ok := w.settle(wait); !ok {
		t.Errorf("%d goroutines of another test failed the check: %v, before %v", leakRounds, now, w.before)
	}
	release()

	release = hold(leakRounds, true)
	if now, ok := w.settle(wait); ok || now.goroutines != 1+leakRounds {
		t.Errorf("a goroutine kept by each of %d stops: %v (passed %v), before %v", leakRounds, now, ok, w.before)
	}
	release()
	if now, ok := w.settle(wait); !ok {
		t.Errorf("the check still fails once the goroutines ended: %v, before %v", now, w.before)
	}

	reads++
	if now, ok := w.settle(wait); ok {
		t.Errorf("a read left open passed the check: %v, before %v", now, w.before)
	}
}
