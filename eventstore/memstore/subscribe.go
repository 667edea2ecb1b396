package memstore

import (
	"context"
	"iter"

	"github.com/treaty-engine/treaty/eventstore"
)

// Subscribe yields the events of stream from revision from on, in revision
// order, and then each event appended later by any store on the same
// events, as eventstore.Subscriber specifies. A stream with no events yet,
// and a from beyond its end, are waited for. An append wakes the waiting
// subscriptions at once; a subscription holds nothing while it waits but
// a channel.
//
// The sequence ends without an error as soon as ctx is done, also while
// waiting, and when the caller breaks out of it. Once the store is closed
// it ends with one error wrapping eventstore.ErrClosed, at once if it
// waits.
func (s *Store) Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.subscribe)
}

// subscribe yields the events and returns the error to yield last, if any;
// it returns nil once ctx is done or yield has asked to stop.
func (s *Store) subscribe(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "subscribe to " + stream
	next := from
	for {
		events, changed := s.log.snapshot(stream)
		var more bool
		var err error
		if next, more, err = s.yieldFrom(ctx, op, events, next, yield); !more {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return s.check(ctx, op)
		case <-changed:
		}
	}
}
