package esdb

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/treaty-engine/treaty/eventstore"
)

// Facts about the v4 client (v4.2.0) that Subscribe relies on:
//
//   - SubscribeToStream (esdb/client.go:328-368) asks the connection
//     goroutine for a connection without a context (getConnectionHandle,
//     esdb/impl.go:84-98), and on a failed start hands a reconnect request
//     to that goroutine, also without one (handleError, esdb/impl.go:58 and
//     78). It returns only once the server has sent its first answer, which
//     must be a Confirmation (esdb/client.go:353-367). So the subscription
//     is opened on a goroutine of its own and the wait for it is bounded by
//     the timeout, as Store.do bounds other calls.
//   - The request's start is the stream option of a read
//     (toStreamSubscriptionRequest, esdb/protobuf_utils.go:309-336):
//     esdb.Start{} and esdb.Revision(n) become the wire's Start and
//     Revision n (toReadStreamOptionsFromStreamAndStreamRevision,
//     esdb/protobuf_utils.go:144-169), and a zero From means End
//     (esdb/subscribe_options.go:37-41). The server (not the client) gives
//     them their meaning: a catch-up subscription from Start sends
//     revision 0 on, one from Revision(n) the events after n (n+1 on), and
//     one to a stream with no events waits for them. So revision from is
//     asked for as Start when from is 0 and as Revision(from-1) otherwise;
//     an event before from, should a server send one, is skipped.
//   - A subscription is a streaming call without a deadline
//     (configureGrpcCall, esdb/options.go:34-35): it ends only with its
//     context, Close, or the connection.
//   - Subscription.Recv (esdb/subscriptions.go:54-114) waits on the gRPC
//     stream alone, never on the connection goroutine: an error of the
//     stream comes back as SubscriptionDropped (lines 63-76), without
//     handleError. Checkpoints, CaughtUp and FellBehind come back as their
//     own messages (lines 79-109); messages it does not know it skips
//     (line 112). Recv after Close reports SubscriptionDropped (lines
//     55-61).
//   - The connection is kept alive by gRPC keepalive pings (every 10 s,
//     10 s timeout, unless the URI's keepAliveInterval says otherwise:
//     esdb/configuration.go:107-108, esdb/impl.go:321-327), which fail the
//     stream of a connection that dropped silently. As keepalive can be
//     turned off, the store also asks the server for the stream's end
//     whenever a subscription has heard nothing for the timeout, and ends
//     the subscription with ErrUnreachable when that goes unanswered.
//   - Events reach Recv through the guard's codec (guard.go), which refuses
//     a recorded event the client would end the process on; the client
//     reports that as a dropped subscription.

var _ eventstore.Subscriber = (*Store)(nil)

// subItem is one answer of a subscription: its confirmation, an event, or
// the error that ends it.
type subItem struct {
	confirmed bool
	ev        eventstore.RecordedEvent
	err       error
}

// Subscribe yields the events of stream from revision from on, in revision
// order, and then each event appended later, as eventstore.Subscriber
// specifies, through a catch-up subscription to the stream on the server. A
// stream with no events yet is waited for. The server streams the events a
// few hundred ahead at most, so memory stays flat however long the stream;
// the bytes of every event are the caller's to keep.
//
// The sequence ends without an error once ctx is done, and with one error
// in these cases: wrapping eventstore.ErrClosed once the store is closed;
// ErrUnreachable when the server does not confirm the subscription within
// the timeout, when the connection drops, or when the server, silent for
// the timeout, does not answer a read of the stream's end within the
// timeout either; ErrBadAnswer when it sends an event of another stream or
// one the client cannot decode (the client's panics are contained);
// eventstore.ErrCorrupt when the stream skips a revision. Breaking out of
// the iteration ends the subscription on the server.
func (s *Store) Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.subscribe)
}

// subscribe yields the events and returns the error to yield last, if any;
// it returns nil once ctx is done or yield has asked to stop.
func (s *Store) subscribe(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "subscribe to " + stream
	if s.closed.Load() {
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
	}
	if ctx.Err() != nil {
		return nil
	}
	if from > math.MaxInt64 {
		// No stream reaches this revision, and the server could take it
		// for a negative number: there is nothing to wait for but the end.
		select {
		case <-ctx.Done():
			return nil
		case <-s.life.Done():
			return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
		}
	}
	rctx, cl, release, err := s.longCall(ctx)
	if err != nil {
		return s.subEnded(ctx, op, err)
	}
	defer release()

	items := make(chan subItem, readAhead)
	go subscribePump(rctx, cl, stream, from, items)
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	confirmed := false
	next := from
	for {
		var it subItem
		var ok bool
		select {
		case it, ok = <-items:
		default:
			timer.Reset(s.timeout)
			select {
			case it, ok = <-items:
			case <-rctx.Done():
				return s.subEnded(ctx, op, rctx.Err())
			case <-timer.C:
				if !confirmed {
					if ctx.Err() != nil {
						return nil
					}
					return fmt.Errorf("%s: %s did not confirm the subscription within %s: %s: %w", op, s.uri, s.timeout, checkServer, ErrUnreachable)
				}
				// Silent for the timeout, as a stream may well be: make
				// sure the server still answers.
				if _, err := s.head(rctx, stream); err != nil {
					return s.subEnded(ctx, op, err)
				}
				continue
			}
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case s.closed.Load():
			return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
		case !ok:
			return fmt.Errorf("%s: %s ended the subscription: %w", op, s.uri, ErrUnreachable)
		case it.err != nil:
			return s.subEnded(ctx, op, it.err)
		case it.confirmed:
			confirmed = true
			continue
		}
		e := it.ev
		switch {
		case e.Stream != stream:
			return fmt.Errorf("%s: %s sent an event of stream %q: %w", op, s.uri, e.Stream, ErrBadAnswer)
		case e.Revision < next:
			continue // before from, or sent again: yielded already
		case e.Revision > next:
			return fmt.Errorf("%s: %s: the stream jumps from revision %d to %d: events were removed behind the store's back "+
				"(by $maxCount, $maxAge or $tb stream metadata, or a deletion): %w", op, s.uri, next, e.Revision, eventstore.ErrCorrupt)
		}
		if !yield(e, nil) {
			return nil
		}
		next++
	}
}

// subEnded is the error a subscription ended by err yields: none when ctx
// ended it, else err explained (ErrClosed once the store is closed).
func (s *Store) subEnded(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return s.explain(ctx, op, err)
}

// subscribePump subscribes to stream from revision from and sends what the
// subscription receives to out: first its confirmation, then its events,
// and at last the error that ends it, if any, before closing out; it ends
// call cl. It stops when ctx is done.
func subscribePump(ctx context.Context, cl *call, stream string, from uint64, out chan<- subItem) {
	var failed error
	defer func() { cl.end(failed) }()
	defer close(out)
	send := func(it subItem) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			send(subItem{err: &clientPanic{r}})
		}
	}()
	var start esdb.StreamPosition = esdb.Start{}
	if from > 0 {
		start = esdb.Revision(from - 1) // the server sends the events after it
	}
	sub, err := cl.k.client.SubscribeToStream(ctx, stream, esdb.SubscribeToStreamOptions{From: start})
	cl.connected(err)
	if err != nil {
		failed = err
		send(subItem{err: err})
		return
	}
	defer sub.Close()
	if !send(subItem{confirmed: true}) {
		return
	}
	for {
		ev, err := recvSub(sub)
		if err != nil {
			send(subItem{err: err})
			return
		}
		switch {
		case ev.SubscriptionDropped != nil:
			err := ev.SubscriptionDropped.Error
			if err == nil {
				err = errors.New("the subscription dropped")
			}
			failed = err
			send(subItem{err: err})
			return
		case ev.EventAppeared != nil:
			rec := ev.EventAppeared.OriginalEvent()
			if rec == nil {
				send(subItem{err: badRead(stream)})
				return
			}
			if !send(subItem{ev: recorded(rec)}) {
				return
			}
		}
		// CaughtUp, FellBehind and checkpoints only mark progress.
	}
}
