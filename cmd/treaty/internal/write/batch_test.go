package write

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
)

// A batch decided again as an earlier run decided it takes the events that
// run appended as its own (Skip) and appends only the rest; a batch that
// decides otherwise is told which stored event differs, and keeps its
// events.
func TestBatchSkip(t *testing.T) {
	ctx := context.Background()
	store, w := memWriter()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// decide makes a batch of the opening and n proposals, IDs and times
	// following from the texts alone.
	decide := func(texts ...string) *Batch {
		b := w.NewBatch("t")
		n := 0
		id := func() uuid.UUID { n++; return uuid.NewSHA1(uuid.NameSpaceURL, []byte{byte(n)}) }
		if _, err := b.Do(act("", opening), at, id); err != nil {
			t.Fatal(err)
		}
		for i, text := range texts {
			c := domain.Table{Proposal: uuid.NewSHA1(uuid.NameSpaceURL, []byte(text)).String(), Clause: "c" + string(rune('a'+i)), Party: "UA", Text: text}
			if _, err := b.Do(act("UA", c), at, id); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	first := decide("One.", "Two.")
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	again := decide("One.", "Two.", "Three.")
	if err := again.Skip(ctx, 3); err != nil {
		t.Fatalf("Skip of the events appended before: %v", err)
	}
	if again.Buffered() != 1 {
		t.Fatalf("%d events buffered after Skip, want 1", again.Buffered())
	}
	if err := again.Flush(ctx); err != nil {
		t.Fatalf("Flush after Skip: %v", err)
	}
	if n := len(storedTimes(t, store)); n != 4 {
		t.Fatalf("the store holds %d events, want 4", n)
	}

	other := decide("One.", "Deux.", "Three.", "Four.")
	var differs *NotSameError
	if err := other.Skip(ctx, 4); !errors.As(err, &differs) || differs.Event != 3 {
		t.Fatalf("Skip of a batch that differs at event 3: %v", err)
	}
	if other.Buffered() != 5 {
		t.Fatalf("a refused Skip left %d events buffered, want 5", other.Buffered())
	}
	longer := decide("One.", "Two.", "Three.", "Four.")
	if err := longer.Skip(ctx, 5); !errors.As(err, &differs) || differs.Event != 4 {
		t.Fatalf("Skip past the end of the stream: %v", err)
	}
}
