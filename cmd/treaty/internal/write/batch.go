package write

import (
	"context"
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
