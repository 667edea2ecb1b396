package sqlite

import (
	"context"
	"errors"
	"iter"

	"github.com/treaty-engine/treaty/eventstore"
)

// Read yields the events of stream from revision from on, in revision order,
// as eventstore.Store.Read specifies. The events come from one read
// transaction, a snapshot taken when iteration starts, streamed row by row so
// that memory stays flat however long the stream; appends meanwhile are not
// blocked. The bytes of every yielded event are the caller's to keep and to
// modify: no two events share bytes (though events read together share
// allocations of up to 16 KiB, which a kept event keeps alive). A read of
// the last few events (up to shortRead, within shortBytes) is read whole
// before the first is yielded, and its connection handed back first, so
// that what the caller does with them may read the store without opening
// another. Iteration ends with ctx's error once ctx is done, and with
// ErrClosed once the store is closed; stopping it early ends the
// transaction.
func (s *Store) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.read)
}

// read yields the events and returns the error to yield last, if any; it
// returns nil once yield has asked to stop.
func (s *Store) read(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "read " + stream
	var short []eventstore.RecordedEvent
	err := s.withRaw(ctx, op, func(c *rawConn) (err error) {
		short, err = c.read(ctx, s, stream, from, true, yield)
		return err
	})
	for _, ev := range short {
		if err := s.live(ctx, op); err != nil {
			return err
		}
		if !yield(ev, nil) {
			return nil
		}
	}
	return err
}

// live returns the error that ends a read before its next event: ctx's,
// or ErrClosed once the store is closed.
func (s *Store) live(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return s.wrap(op, err)
	}
	return s.checkOpen(op)
}

// Streams lists the streams whose names start with prefix, sorted by name
// (byte order), each with its number of events, from one snapshot.
func (s *Store) Streams(ctx context.Context, prefix string) ([]eventstore.StreamInfo, error) {
	const op = "list streams"
	var out []eventstore.StreamInfo
	err := s.withRaw(ctx, op, func(c *rawConn) (err error) {
		if out, err = c.streamsWith(prefix); err != nil {
			err = s.wrap(op, err)
		}
		return err
	})
	return out, err
}

// withRaw runs f on an idle read connection (see rawConn), for the
// operation op, which names it in errors; f wraps the errors it returns.
func (s *Store) withRaw(ctx context.Context, op string, f func(c *rawConn) error) error {
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return s.wrap(op, err)
	}
	c, err := s.getRaw()
	if err != nil {
		return s.wrap(op, err)
	}
	err = f(c)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) && ctx.Err() == nil && !s.closed.Load() {
		// SQLite failed: start afresh rather than reuse the connection.
		s.dropRaw(c)
		return err
	}
	s.putRaw(c)
	return s.ended(ctx, op, err)
}

// prefixEnd returns the least string greater than every string starting with
// prefix, or false when there is none (prefix is empty or all 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
