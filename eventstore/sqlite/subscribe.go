package sqlite

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// pollInterval is how often a subscription that has caught up looks up its
// stream's event count, to find events that another process (or another
// Store on the same file) appended. Appends through the same Store wake its
// subscriptions at once. Tests lower it.
var pollInterval = 200 * time.Millisecond

// A subscription reads its stream in batches of at most subBatchEvents
// events or subBatchBytes bytes of data and metadata (but at least one
// event), each in a read transaction of its own that ends before the first
// event of the batch is yielded: a consumer that takes its time keeps no
// snapshot open, and memory stays flat however long the stream.
const (
	subBatchEvents = 256
	subBatchBytes  = 1 << 20
)

var _ eventstore.Subscriber = (*Store)(nil)

// Subscribe yields the events of stream from revision from on, in revision
// order, and then each event appended later, as eventstore.Subscriber
// specifies: by this Store, by another Store on the same file, or by
// another process. A stream with no events yet, and a from beyond its end,
// are waited for.
//
// The events already stored are read as Read reads them, in batches (see
// above). Once it has caught up, the subscription waits: an append through
// this Store wakes it at once; appends from elsewhere it finds by looking
// up the stream's event count in the streams table (one primary-key lookup,
// never a scan of the log) every 200 ms, and it then reads only the new
// events. While it waits it holds one idle read connection of the store
// and no transaction, so it never keeps a WAL checkpoint from finishing.
// The bytes of every event are the caller's to keep.
//
// The sequence ends without an error as soon as ctx is done, also while
// waiting; breaking out of the iteration ends it and returns its
// connection. Once the store is closed it ends with one error wrapping
// eventstore.ErrClosed, at once if it waits; a stream whose stored
// revisions have a gap ends with eventstore.ErrCorrupt, and an SQLite
// failure with its error.
func (s *Store) Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.subscribe)
}

// subscribe yields the events and returns the error to yield last, if any;
// it returns nil once ctx is done or yield has asked to stop.
func (s *Store) subscribe(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "subscribe to " + stream
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	c, err := s.getRaw()
	if err != nil {
		return eventstore.SubscriptionEnded(ctx, s.checkOpen(op), s.wrap(op, err))
	}
	defer func() {
		if c != nil {
			s.putRaw(c)
		}
	}()
	// fail ends the subscription on an error of c, which is then not
	// reused unless the error was ctx's or Close's.
	fail := func(err error) error {
		if ctx.Err() == nil && !s.closed.Load() {
			s.dropRaw(c)
			c = nil
		}
		return eventstore.SubscriptionEnded(ctx, s.checkOpen(op), err)
	}

	interval := pollInterval
	timer := time.NewTimer(interval)
	defer timer.Stop()
	batch := make([]eventstore.RecordedEvent, 0, subBatchEvents)
	next := from
	for {
		// Catch up, a batch at a time, until a batch comes back short.
		for {
			size := 0
			_, err := c.read(ctx, s, stream, next, false, func(e eventstore.RecordedEvent, _ error) bool {
				batch = append(batch, e)
				size += len(e.Data) + len(e.Metadata)
				return len(batch) < subBatchEvents && size < subBatchBytes
			})
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				return fail(err)
			}
			full := len(batch) == subBatchEvents || size >= subBatchBytes
			for i, e := range batch {
				if err := s.checkOpen(op); err != nil {
					return err
				}
				if ctx.Err() != nil || !yield(e, nil) {
					return nil
				}
				batch[i] = eventstore.RecordedEvent{} // the caller's now
				next = e.Revision + 1
			}
			batch = batch[:0]
			if !full {
				break
			}
		}
		// Wait until the stream holds more than next events.
		for {
			// Taken before the count: an append that commits after it
			// fires this very channel.
			appended := s.appended.wait()
			n, err := c.count(stream)
			if err != nil {
				return fail(s.wrap(op, err))
			}
			if n > next {
				break
			}
			timer.Reset(interval)
			select {
			case <-ctx.Done():
				return nil
			case <-s.done:
				return s.checkOpen(op)
			case <-appended:
			case <-timer.C:
			}
		}
	}
}
