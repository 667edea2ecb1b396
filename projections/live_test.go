package projections

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// A Live follows appends as they land, serves the head without reading the
// store, and stops, saying why, when the log breaks.
func TestLiveFollows(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("a", "A.")
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live, err := Follow(lctx, NewReader(ss.store, "berlin", withCheckpoints))
	if err != nil {
		t.Fatal(err)
	}
	start := live.Events()
	p := ss.table("US", "a", "A, amended.")
	ss.accept(p, "UA")
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	var seen []Entry
	for len(seen) < 2 {
		entries, err := live.Watch(wctx, start+len(seen))
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, entries...)
	}
	if seen[0].Type != domain.TypeProposalTabled || seen[1].Type != domain.TypeProposalAccepted || seen[0].Event != start+1 {
		t.Fatalf("watched %+v", seen)
	}
	err = live.View(func(m Moment) error {
		if m.State.Events != ss.s.Events || m.Point.Hash != ss.head {
			t.Fatalf("head at event %d (%s), the log at %d (%s)", m.State.Events, m.Point.Hash, ss.s.Events, ss.head)
		}
		d := BuildDraft(m, DraftOptions{})
		if got := d.Clauses[0].OpenProposals[0].AcceptedBy; len(got) != 2 {
			t.Fatalf("the draft in memory: accepted by %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	past, err := live.At(ctx, ref(t, "@6"))
	if err != nil || past.State.Events != 6 {
		t.Fatalf("At(@6): %v, %d events", err, past.State.Events)
	}
	if past.State.Clauses["a"].Text != "A." || len(past.State.OpenProposals("a")) != 0 {
		t.Fatalf("the past: %+v", past.State.Clauses["a"])
	}
	// A broken event stops it, naming the event.
	ss.raw(domain.RoundOpened{Round: 7}, domain.Meta{Party: "DE", Round: 7, Time: ss.at})
	for {
		if _, err := live.Watch(wctx, ss.s.Events); err != nil {
			var prob *Problem
			if !errors.As(err, &prob) || prob.Event != ss.s.Events+1 {
				t.Fatalf("stopped with %v, want a problem at event %d", err, ss.s.Events+1)
			}
			break
		}
	}
	if !errors.As(live.Err(), new(*Problem)) {
		t.Fatalf("Err = %v", live.Err())
	}
}

// A Live needs a store it can follow.
func TestLiveNeedsASubscriber(t *testing.T) {
	ss := newSession(t)
	if _, err := Follow(ctx, NewReader(plainStore{ss.store}, "berlin", Options{})); err == nil {
		t.Fatal("followed a store that cannot be followed")
	}
}

// plainStore hides every capability but the Store itself.
type plainStore struct{ eventstore.Store }
