package projections

import (
	"context"
	"errors"
	"fmt"
	"reflect"
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

// Read gives consistent moments: the head held still, past moments read
// once and shared, a moment that was now read again as past once the head
// moves on; watchers behind the events kept in memory read the store.
func TestLiveRead(t *testing.T) {
	ss := newSession(t)
	ss.openRound()
	ss.agree("a", "A.")
	ss.closeRound()
	ss.openRound()
	ss.agree("a", "A, amended.")
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live, err := Follow(lctx, NewReader(ss.store, "berlin", withCheckpoints))
	if err != nil {
		t.Fatal(err)
	}
	read := func(refs ...string) (head Moment, at []Moment) {
		t.Helper()
		var rs []Ref
		for _, r := range refs {
			rs = append(rs, ref(t, r))
		}
		err := live.Read(ctx, rs, func(h Moment, ms []Moment) error {
			head, at = h, ms
			_, err := BuildDiff(ms[0], ms[1], h.State, CompareOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return head, at
	}
	head, at := read("round:1", "round:2")
	if at[0].Point.Ref != "round:1" || at[0].State.Clauses["a"].Text != "A." || at[1].State != head.State {
		t.Fatalf("round:1 %+v, round:2 is the head: %v", at[0].Point, at[1].State == head.State)
	}
	_, again := read("round:1", "head")
	if again[0].State != at[0].State {
		t.Fatal("a past moment read twice")
	}
	// The head moves on: round:2 (open) follows it; @N of the old head is
	// past now.
	old := head.Point.Event
	ss.table("US", "a", "A, by the US.")
	for live.Events() == old {
		live.Watch(ctx, old)
	}
	head, at = read(fmt.Sprintf("@%d", old), "round:2")
	if at[0].State == head.State || at[0].State.Events != old || at[1].State != head.State {
		t.Fatalf("after the head moved: @%d has %d events", old, at[0].State.Events)
	}
	// A watcher from the first event gets the events folded before Follow
	// from the store, then the rest.
	var seen []int
	for len(seen) < ss.s.Events {
		es, err := live.Watch(ctx, len(seen))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			seen = append(seen, e.Event)
		}
	}
	for i, n := range seen {
		if n != i+1 {
			t.Fatalf("watched %v", seen)
		}
	}
	// A proposal, open and closed, and the round index, as a Reader has them.
	r := NewReader(ss.store, "berlin", withCheckpoints)
	for _, p := range []string{"00030000", "00010000"} {
		want, err := r.Proposal(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := live.Proposal(ctx, p)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("proposal %s: %+v, %v; want %+v", p, got, err, want)
		}
	}
	want, _ := r.Rounds(ctx)
	if got, err := live.Rounds(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("rounds %+v, %v; want %+v", got, err, want)
	}
	if _, err := live.Proposal(ctx, "zzzzzzzz"); err == nil {
		t.Fatal("found a proposal that is not there")
	}
	if err := live.Read(ctx, []Ref{ref(t, "round:9")}, func(Moment, []Moment) error { return nil }); !errors.As(err, new(*RefError)) {
		t.Fatalf("round:9: %v", err)
	}
}
