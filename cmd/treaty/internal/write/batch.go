package write

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/projections"
)

// Batch writes many acts of one negotiation at once, decided one after the
// other against a state it keeps in memory and appended together: the
// sample negotiation, a simulation. It goes through the same rules, sealing
// and signing as Do; it assumes no other writer appends meanwhile (its
// appends expect the revision it last wrote, and fail otherwise).
type Batch struct {
	w        *Writer
	treaty   string
	s        domain.State
	head     string
	at       time.Time // the time of the last act
	expected eventstore.ExpectedRevision
	buffer   []eventstore.EventData
}

// NewBatch starts a batch that opens the negotiation treaty: its first
// append expects no stream.
func (w *Writer) NewBatch(treaty string) *Batch {
	return &Batch{w: w, treaty: treaty, expected: eventstore.NoStream()}
}

// Do decides one act at time at (recorded as the last act's time if that
// is later), seals and signs its events, with IDs from newID (the Writer's
// when nil), and folds them into the batch's state. A refused act leaves
// the batch as it was.
func (b *Batch) Do(a Act, at time.Time, newID func() uuid.UUID) ([]domain.Event, error) {
	if err := domain.CheckAuthor(a.Author); err != nil {
		return nil, err
	}
	at = notBefore(at.UTC(), b.at)
	cmd, err := a.Command(&b.s, b.head)
	if err != nil {
		return nil, err
	}
	evs, err := domain.Decide(&b.s, cmd)
	if err != nil {
		return nil, err
	}
	if newID == nil {
		newID = b.w.newID
	}
	batch, head, err := b.w.Seal(b.treaty, &b.s, evs, domain.Meta{Party: a.Party, Author: a.Author, Time: at}, b.head, newID)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		if err := b.s.Evolve(e); err != nil {
			return nil, err // Decide's events always fold: a bug, not a refusal
		}
	}
	b.buffer = append(b.buffer, batch...)
	b.head, b.at = head, at
	return evs, nil
}

// Buffered counts the events decided but not yet appended.
func (b *Batch) Buffered() int { return len(b.buffer) }

// Events is the number of events the batch's state holds, appended or not.
func (b *Batch) Events() int { return b.s.Events }

// State is the batch's negotiation so far. It belongs to the batch.
func (b *Batch) State() *domain.State { return &b.s }

// Moment is the batch's negotiation so far.
func (b *Batch) Moment() projections.Moment {
	return projections.Moment{State: &b.s, Point: projections.Point{Ref: "head", Event: b.s.Events, Round: len(b.s.Rounds), Time: b.at, Hash: b.head}}
}

// NotSameError is a store that does not hold, where a batch looks for
// them, the events the batch decided (see Skip).
type NotSameError struct {
	// Event is the number of the first stored event that differs, or of
	// the stream's last when it ends too soon; Why says which.
	Event int
	Why   string
}

func (e *NotSameError) Error() string { return fmt.Sprintf("its event %d %s", e.Event, e.Why) }

// Skip takes the first n buffered events as appended already: the store
// holds them from an earlier run of the same batch (a simulation resumed
// after an interruption). It reads them and checks that each is the
// buffered event exactly (ID, type, data and metadata, the bytes the hash
// chain seals); if one is not, or the stream ends before them, it fails
// with a *NotSameError and leaves the batch as it was. The next Flush
// appends after them.
func (b *Batch) Skip(ctx context.Context, n int) error {
	n = min(n, len(b.buffer))
	if n <= 0 {
		return nil
	}
	from := b.s.Events - len(b.buffer) // the first buffered event's revision
	checked, last := 0, uint64(0)
	for ev, err := range b.w.Store.Read(ctx, projections.Stream(b.treaty), uint64(from)) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return err
		}
		want := b.buffer[checked]
		if ev.ID != want.ID || ev.Type != want.Type || !bytes.Equal(ev.Data, want.Data) || !bytes.Equal(ev.Metadata, want.Metadata) {
			return &NotSameError{Event: from + checked + 1, Why: "(" + ev.Type + ") is not the one decided here"}
		}
		checked, last = checked+1, ev.Revision
		if checked == n {
			break
		}
	}
	if checked < n {
		return &NotSameError{Event: from + checked, Why: fmt.Sprintf("is its last, where %d more were expected", n-checked)}
	}
	b.buffer = append(b.buffer[:0:0], b.buffer[n:]...)
	b.expected = eventstore.Exact(last)
	return nil
}

// Flush appends the buffered events in one atomic append, expecting the
// stream to end where the last flush left it.
func (b *Batch) Flush(ctx context.Context) error {
	if len(b.buffer) == 0 {
		return nil
	}
	rev, err := b.w.Store.Append(ctx, projections.Stream(b.treaty), b.expected, b.buffer...)
	if err != nil {
		return err
	}
	b.expected = eventstore.Exact(rev)
	b.buffer = b.buffer[:0]
	return nil
}
