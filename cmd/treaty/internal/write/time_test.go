package write

import (
	"context"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore/memstore"
	"github.com/treaty-engine/treaty/projections"
)

var opening = domain.OpenTreaty{Treaty: "t", Title: "Times", Parties: []domain.Party{
	{Code: "UA", Role: domain.RoleParty}, {Code: "US", Role: domain.RoleParty}}}

// memWriter is a write path to a new store in memory.
func memWriter() (*memstore.Store, *Writer) {
	store := memstore.New()
	return store, &Writer{Store: store, Reader: projections.NewReader(store, "t", projections.Options{})}
}

func act(party string, c domain.Command) Act {
	return Act{Party: party, Command: func(*domain.State, string) (domain.Command, error) { return c, nil }}
}

// storedTimes reads back the time recorded with every event.
func storedTimes(t *testing.T, store *memstore.Store) []time.Time {
	t.Helper()
	var times []time.Time
	for r, err := range projections.Events(context.Background(), store, "t", 0) {
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Meta()
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, m.Time)
	}
	return times
}

// A writer whose clock is behind the log's last event records that event's
// time instead: the times of a log never go back.
func TestDoNeverRecordsAnEarlierTime(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	ahead := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := ahead
	w := &Writer{Store: store, Reader: projections.NewReader(store, "t", projections.Options{}), Now: func() time.Time { return clock }}
	b := w.NewBatch("t") // as init opens a negotiation
	if _, err := b.Do(act("", opening), clock, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clock = ahead.Add(-time.Hour) // this writer's clock is an hour behind
	out, err := w.Do(ctx, act("UA", domain.Table{Proposal: "p1", Clause: "c", Party: "UA", Text: "Text."}))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Time.Equal(ahead) {
		t.Errorf("an act decided at %s after an event recorded at %s is recorded at %s", clock, ahead, out.Time)
	}
	clock = ahead.Add(time.Minute)
	if _, err := w.Do(ctx, act("US", domain.Accept{Proposal: "p1", Party: "US"})); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{ahead, ahead, ahead.Add(time.Minute), ahead.Add(time.Minute)}
	got := storedTimes(t, store)
	if len(got) != len(want) {
		t.Fatalf("stored %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("event %d recorded at %s, want %s", i+1, got[i], want[i])
		}
	}
}

// A batch does the same with the times it is given.
func TestBatchNeverRecordsAnEarlierTime(t *testing.T) {
	store := memstore.New()
	w := &Writer{Store: store, Reader: projections.NewReader(store, "t", projections.Options{})}
	b := w.NewBatch("t")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		party string
		c     domain.Command
		at    time.Time
	}{
		{"", opening, t0},
		{"UA", domain.Table{Proposal: "p1", Clause: "c", Party: "UA", Text: "Text."}, t0.Add(-time.Hour)},
		{"US", domain.Accept{Proposal: "p1", Party: "US"}, t0.Add(time.Second)},
	} {
		if _, err := b.Do(act(step.party, step.c), step.at, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := storedTimes(t, store)
	want := []time.Time{t0, t0, t0.Add(time.Second), t0.Add(time.Second)}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("event %d recorded at %s, want %s", i+1, got[i], want[i])
		}
	}
}
