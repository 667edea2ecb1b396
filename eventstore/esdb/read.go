package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/treaty-engine/treaty/eventstore"
)

// readAhead is how many events a read may have received and not yet
// yielded: enough to keep the connection busy, little enough that a stream
// of any length reads in flat memory.
const readAhead = 256

// maxCount asks a read for every event there is. The server keeps counts as
// signed 64-bit numbers.
const maxCount = math.MaxInt64

// head returns the number of events in stream: its last revision plus one,
// from a backwards read of one event, or 0 when the stream does not exist.
func (s *Store) head(ctx context.Context, stream string) (uint64, error) {
	rec, ok, err := s.readOne(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}})
	switch {
	case err != nil || !ok:
		return 0, err
	case rec == nil || rec.StreamID != stream:
		return 0, badRead(stream)
	}
	return rec.EventNumber + 1, nil
}

// readOne reads the one event of stream that opts point at. ok is false
// when the stream does not exist or has no event there; rec may be nil
// when the server answered without one.
func (s *Store) readOne(ctx context.Context, stream string, opts esdb.ReadStreamOptions) (rec *esdb.RecordedEvent, ok bool, err error) {
	err = s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		rs, err := c.ReadStream(ctx, stream, opts, 1)
		if err != nil {
			return err
		}
		defer rs.Close()
		re, err := rs.Recv()
		switch {
		case notFound(err), errors.Is(err, io.EOF):
			rec, ok = nil, false
			return nil
		case err != nil:
			return err
		}
		rec, ok = re.OriginalEvent(), true
		return nil
	})
	return rec, ok, err
}

func badRead(stream string) error {
	return fmt.Errorf("a read of %s was answered with an event of another stream, or none: %w", stream, ErrBadAnswer)
}

// Read yields the events of stream from revision from on, in revision
// order, as eventstore.Store.Read specifies. The server streams them as the
// read goes, a few hundred ahead at most, so memory stays flat however long
// the stream; what a read yields is the server's view when each event is
// sent (no event is skipped or repeated, and events appended meanwhile may
// or may not appear). The bytes of every event are the caller's to keep.
//
// Iteration ends with ctx's error once ctx is done, with ErrClosed once the
// store is closed, and with an error wrapping ErrUnreachable when the
// server sends nothing for the timeout; stopping it early ends the read on
// the server. A stream that does not begin at revision 0, or skips a
// revision, ends with eventstore.ErrCorrupt: events were removed behind the
// backend's back (by $maxCount, $maxAge or $tb stream metadata, or a
// deletion and scavenge).
func (s *Store) Read(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.read)
}

// readItem is one answer of a read: an event, or the error that ends it.
type readItem struct {
	ev  eventstore.RecordedEvent
	err error
}

// read yields the events and returns the error to yield last, if any; it
// returns nil once yield has asked to stop.
func (s *Store) read(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "read " + stream
	if err := s.check(ctx, op); err != nil {
		return err
	}
	if from > math.MaxInt64 {
		// No stream reaches this revision, and the server could take it for
		// a negative number: only whether the stream exists is left to say.
		n, err := s.head(ctx, stream)
		if err != nil {
			return s.explain(ctx, op, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrStreamNotFound)
		}
		return nil
	}
	rctx, cl, release, err := s.longCall(ctx)
	if err != nil {
		return s.explain(ctx, op, err)
	}
	defer release()

	// The client's read runs on a goroutine of its own: opening it may
	// block without a context (see Store.do), and its Recv may block
	// handing a reconnect request to the client's connection goroutine
	// (esdb/impl.go, handleError). Here the wait for each event is bounded
	// by the timeout instead.
	items := make(chan readItem, readAhead)
	go pump(rctx, cl, stream, from, items)
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	next := from
	for {
		var it readItem
		var ok bool
		select {
		case it, ok = <-items:
		default:
			timer.Reset(s.timeout)
			select {
			case it, ok = <-items:
			case <-timer.C:
				return fmt.Errorf("%s: %s sent nothing for %s after revision %d: %s: %w", op, s.uri, s.timeout, next, checkServer, ErrUnreachable)
			case <-rctx.Done():
				return s.explain(ctx, op, rctx.Err())
			}
		}
		switch {
		case !ok:
			return nil
		case it.err != nil:
			return s.explain(ctx, op, it.err)
		case ctx.Err() != nil, s.closed.Load():
			return s.explain(ctx, op, context.Canceled)
		}
		e := it.ev
		switch {
		case e.Stream != stream:
			return fmt.Errorf("%s: %s answered with an event of stream %q: %w", op, s.uri, e.Stream, ErrBadAnswer)
		case e.Revision > next:
			return fmt.Errorf("%s: %s: the stream jumps from revision %d to %d: events were removed behind the store's back "+
				"(by $maxCount, $maxAge or $tb stream metadata, or a deletion): %w", op, s.uri, next, e.Revision, eventstore.ErrCorrupt)
		case e.Revision < next:
			return fmt.Errorf("%s: %s sent revision %d again, or out of order: %w", op, s.uri, e.Revision, ErrBadAnswer)
		}
		if !yield(e, nil) {
			return nil
		}
		next++
	}
}

// pump reads stream from revision from into out, ending with the read's
// error, if any, and closing out; it ends call cl. It stops when ctx is
// done.
func pump(ctx context.Context, cl *call, stream string, from uint64, out chan<- readItem) {
	var failed error
	defer func() { cl.end(failed) }()
	defer close(out)
	send := func(it readItem) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			send(readItem{err: &clientPanic{r}})
		}
	}()
	rs, err := cl.k.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(from)}, maxCount)
	cl.connected(err)
	if err != nil {
		failed = err
		send(readItem{err: err})
		return
	}
	defer rs.Close()
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			failed = err
			send(readItem{err: err})
			return
		}
		rec := re.OriginalEvent()
		if rec == nil {
			send(readItem{err: badRead(stream)})
			return
		}
		if !send(readItem{ev: recorded(rec)}) {
			return
		}
	}
}

// recorded is the client's recorded event as the store yields it.
func recorded(rec *esdb.RecordedEvent) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		Stream:   rec.StreamID,
		Revision: rec.EventNumber,
		ID:       rec.EventID,
		Type:     rec.EventType,
		Data:     rec.Data, // decoded per message: no two events share bytes
		Metadata: rec.UserMetadata,
		Created:  rec.CreatedDate, // the server's clock, already UTC
	}
}

// Streams lists the streams whose names start with prefix, sorted by name
// (byte order), each with its number of events as a backwards read of its
// last event finds it.
//
// The names come from a catch-up subscription to $all from its start,
// filtered on the server by stream-name prefix, which ends at the event
// that was last in $all when Streams began (or at the server's CaughtUp, or
// at a checkpoint past it, whichever comes first). It needs permission to
// read $all. Reservation streams of this backend are never listed, nor
// system streams ("$…") unless prefix starts with "$". Streams deleted on
// the server are left out.
func (s *Store) Streams(ctx context.Context, prefix string) ([]eventstore.StreamInfo, error) {
	op := "list streams"
	if err := s.check(ctx, op); err != nil {
		return nil, err
	}
	end, found, err := s.lastPosition(ctx)
	if err != nil {
		return nil, s.explain(ctx, op, err)
	}
	if !found {
		return nil, nil
	}
	names, err := s.scan(ctx, prefix, end)
	if err != nil {
		return nil, s.explain(ctx, op, err)
	}
	counts := make([]uint64, len(names))
	err = parallel(ctx, len(names), func(i int) error {
		n, err := s.head(ctx, names[i])
		counts[i] = n
		return err
	})
	if err != nil {
		return nil, s.explain(ctx, op, err)
	}
	var out []eventstore.StreamInfo
	for i, name := range names {
		if counts[i] > 0 {
			out = append(out, eventstore.StreamInfo{Name: name, Events: counts[i]})
		}
	}
	slices.SortFunc(out, func(a, b eventstore.StreamInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// listable reports whether Streams(prefix) shows stream.
func listable(stream, prefix string) bool {
	switch {
	case !strings.HasPrefix(stream, prefix): // the server's prefix test may not be byte-wise
		return false
	case strings.HasPrefix(stream, claimPrefix):
		return false
	case strings.HasPrefix(stream, "$") && !strings.HasPrefix(prefix, "$"):
		return false
	}
	return true
}

// lastPosition returns the position of the last event in $all, and false
// when $all is empty.
func (s *Store) lastPosition(ctx context.Context) (esdb.Position, bool, error) {
	var pos esdb.Position
	var found bool
	err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		rs, err := c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
		if err != nil {
			return err
		}
		defer rs.Close()
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rec := re.OriginalEvent()
		if rec == nil {
			return badRead("$all")
		}
		pos, found = rec.Position, true
		return nil
	})
	return pos, found, err
}

// before reports whether position a comes before b in $all.
func before(a, b esdb.Position) bool {
	return a.Commit < b.Commit || a.Commit == b.Commit && a.Prepare < b.Prepare
}

// scan returns the names of the streams Streams(prefix) shows that have
// events at or before position end, in no particular order.
func (s *Store) scan(ctx context.Context, prefix string, end esdb.Position) ([]string, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.life, cancel)
	defer stop()

	opts := esdb.SubscribeToAllOptions{From: esdb.Start{}}
	if prefix != "" {
		// A wide search window: checkpoints only mark progress here.
		opts.Filter = &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{prefix}}
		opts.MaxSearchWindow, opts.CheckpointInterval = 1000, 1
	}
	octx, ocancel := context.WithTimeout(sctx, s.timeout)
	defer ocancel()
	cl, err := s.begin(octx)
	if err != nil {
		return nil, err
	}
	type opened struct {
		sub *esdb.Subscription
		err error
	}
	res := make(chan opened, 1)
	go func() {
		var o opened
		defer func() {
			if r := recover(); r != nil {
				o = opened{err: &clientPanic{r}}
			}
			cl.connected(o.err)
			res <- o
		}()
		// Answered with Confirmation first, or an error.
		o.sub, o.err = cl.k.client.SubscribeToAll(sctx, opts)
	}()
	var sub *esdb.Subscription
	select {
	case o := <-res:
		if o.err != nil {
			cl.end(o.err)
			return nil, o.err
		}
		sub = o.sub
	case <-octx.Done():
		go func() { // when the client gets round to it
			o := <-res
			if o.sub != nil {
				o.sub.Close()
			}
			cl.end(o.err)
		}()
		return nil, octx.Err()
	}
	// The subscription's Recv never waits on the client's connection
	// goroutine (esdb/subscriptions.go), so it runs here, and the call
	// ends when the subscription does.
	defer cl.end(nil)
	defer sub.Close()

	// Recv waits on the subscription's context alone; the timer ends it
	// when the server stays silent for the timeout.
	var silent atomic.Bool
	idle := time.AfterFunc(s.timeout, func() { silent.Store(true); cancel() })
	defer idle.Stop()
	seen := map[string]bool{}
	var names []string
	for {
		ev, err := recvSub(sub)
		if silent.Load() {
			return nil, context.DeadlineExceeded
		}
		if err != nil {
			return nil, err
		}
		idle.Reset(s.timeout)
		switch {
		case ev.SubscriptionDropped != nil:
			if sctx.Err() != nil {
				return nil, sctx.Err()
			}
			return nil, fmt.Errorf("the subscription to $all dropped: %w", ev.SubscriptionDropped.Error)
		case ev.CaughtUp != nil:
			return names, nil
		case ev.CheckPointReached != nil:
			if before(end, *ev.CheckPointReached) {
				return names, nil
			}
		case ev.EventAppeared != nil:
			rec := ev.EventAppeared.OriginalEvent()
			if rec == nil {
				return nil, badRead("$all")
			}
			if before(end, rec.Position) {
				return names, nil // past the end: appended after Streams began
			}
			if listable(rec.StreamID, prefix) && !seen[rec.StreamID] {
				seen[rec.StreamID] = true
				names = append(names, rec.StreamID)
			}
			if rec.Position == end {
				return names, nil
			}
		}
	}
}

// recvSub is sub.Recv, with a panic in the client made an error.
func recvSub(sub *esdb.Subscription) (ev *esdb.SubscriptionEvent, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, &clientPanic{r}
		}
	}()
	return sub.Recv(), nil
}
