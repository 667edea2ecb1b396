package projections

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

// StreamPrefix starts the name of every negotiation's stream.
const StreamPrefix = "treaty-"

// Stream names the stream that holds a negotiation's events.
func Stream(treaty string) string { return StreamPrefix + treaty }

// Recorded is one stored event of a negotiation, decoded.
type Recorded struct {
	// Number counts the negotiation's events from 1 (the stream revision
	// plus one); `@N` refers to it.
	Number  int
	ID      uuid.UUID
	Type    string
	Event   domain.Event
	Data    []byte
	RawMeta []byte
	// Created is the store's clock when the event was appended.
	Created time.Time

	meta    domain.Meta
	metaErr error
	decoded bool
	// hash is the event's hash as checked against the chain after the
	// event with hash linkedTo (see checkedFold.link).
	hash, linkedTo string
}

// Meta decodes the event's metadata on first use: most folds never need it.
func (r *Recorded) Meta() (domain.Meta, error) {
	if !r.decoded {
		r.meta, r.metaErr = domain.DecodeMeta(r.RawMeta)
		r.decoded = true
		if r.metaErr != nil {
			r.metaErr = &EventError{Number: r.Number, ID: r.ID, Type: r.Type, Err: r.metaErr}
		}
	}
	return r.meta, r.metaErr
}

// EventError is a stored event that cannot be read or folded. It names the
// event so that an auditor can find it.
type EventError struct {
	Number int
	ID     uuid.UUID
	Type   string
	Err    error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("event %d (%s, %s): %v", e.Number, e.Type, e.ID, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// ErrNoTreaty: the store holds no negotiation of that ID.
var ErrNoTreaty = errors.New("no such negotiation")

// Events yields the negotiation's events from number from+1 on (from is the
// number of events to skip), decoded. A stored event that cannot be decoded
// ends the sequence with an *EventError naming it. A negotiation with no
// events yields an error wrapping ErrNoTreaty.
func Events(ctx context.Context, store eventstore.Store, treaty string, from int) iter.Seq2[*Recorded, error] {
	return func(yield func(*Recorded, error) bool) {
		for ev, err := range store.Read(ctx, Stream(treaty), uint64(from)) {
			if err != nil {
				if errors.Is(err, eventstore.ErrStreamNotFound) {
					err = fmt.Errorf("%w %q in this store; `treaty list` shows the negotiations it holds", ErrNoTreaty, treaty)
				}
				yield(nil, err)
				return
			}
			r, err := DecodeEvent(ev)
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// DecodeEvent decodes a stored event of a negotiation; an event that cannot be
// decoded is an *EventError naming it.
func DecodeEvent(ev eventstore.RecordedEvent) (*Recorded, error) {
	r := &Recorded{Number: int(ev.Revision) + 1, ID: ev.ID, Type: ev.Type, Data: ev.Data, RawMeta: ev.Metadata, Created: ev.Created}
	e, err := domain.Decode(ev.Type, ev.Data)
	if err != nil {
		return nil, &EventError{Number: r.Number, ID: r.ID, Type: r.Type, Err: err}
	}
	r.Event = e
	return r, nil
}

// Treaty is one negotiation in a store.
type Treaty struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Events int    `json:"events"`
}

// Treaties lists the negotiations in a store, sorted by ID, with their titles
// (read from each one's first event).
func Treaties(ctx context.Context, store eventstore.Store) ([]Treaty, error) {
	streams, err := store.Streams(ctx, StreamPrefix)
	if err != nil {
		return nil, err
	}
	ts := make([]Treaty, 0, len(streams))
	for _, st := range streams {
		t := Treaty{ID: strings.TrimPrefix(st.Name, StreamPrefix), Events: int(st.Events)}
		for r, err := range Events(ctx, store, t.ID, 0) {
			if err != nil {
				return nil, err
			}
			if o, ok := r.Event.(domain.TreatyOpened); ok {
				t.Title = o.Title
			}
			break
		}
		ts = append(ts, t)
	}
	return ts, nil
}
