package esdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/internal/faulttest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// subscription is a Subscribe running on a goroutine of its own.
type subscription struct {
	events chan eventstore.RecordedEvent
	ended  chan []error // what it yielded as errors, once it ended
}

// subscribe follows stream from revision from on s until ctx is done (or
// the test ends).
func subscribe(t *testing.T, ctx context.Context, s *Store, stream string, from uint64) *subscription {
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	sub := &subscription{events: make(chan eventstore.RecordedEvent, 1024), ended: make(chan []error, 1)}
	go func() {
		var errs []error
		for e, err := range s.Subscribe(ctx, stream, from) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sub.events <- e
		}
		sub.ended <- errs
	}()
	return sub
}

// take waits for n events.
func (sub *subscription) take(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		select {
		case <-sub.events:
		case errs := <-sub.ended:
			t.Fatalf("the subscription ended after %d events with errors %v", i, errs)
		case <-time.After(10 * time.Second):
			t.Fatalf("the subscription yielded %d events in 10s, want %d", i, n)
		}
	}
}

// end waits for the subscription to end, within limit of start, and
// checks that it yielded one error, naming uri and wrapping want.
func (sub *subscription) end(t *testing.T, what string, start time.Time, limit time.Duration, uri string, want error) {
	t.Helper()
	select {
	case errs := <-sub.ended:
		if len(errs) != 1 {
			t.Fatalf("%s: the subscription ended with errors %v, want one", what, errs)
		}
		faulttest.WantBounded(t, what, start, limit-faulttest.Slack, errs[0], uri, want)
	case <-time.After(limit):
		t.Fatalf("%s: the subscription still runs after %s", what, limit)
	}
}

// TestSubscribeServerGone: the server stops while a subscription waits for
// events; the subscription ends with ErrUnreachable, at once.
func TestSubscribeServerGone(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: time.Minute})
	storetest.MustAppend(t, s, "gone", eventstore.NoStream(), storetest.Events("E", 3)...)
	sub := subscribe(t, context.Background(), s, "gone", 0)
	sub.take(t, 3)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	srv.Close()
	sub.end(t, "a subscription whose server stopped", start, faulttest.Slack, srv.URI(), ErrUnreachable)
}

// TestSubscribeHangingServer: a server that accepts the subscription but
// never confirms it, and one that stops answering once the subscription
// waits, end it with ErrUnreachable within about the timeout (twice it, for
// the second: the silence, then the unanswered check).
func TestSubscribeHangingServer(t *testing.T) {
	const timeout = time.Second // short: the test waits it out four times
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: timeout})
	storetest.MustAppend(t, s, "hang", eventstore.NoStream(), storetest.Events("E", 2)...)

	srv.SetFault(esdbtest.Hang)
	start := time.Now()
	subscribe(t, context.Background(), s, "hang", 0).end(t, "a subscription never confirmed", start, timeout+faulttest.Slack, srv.URI(), ErrUnreachable)

	srv.SetFault(esdbtest.None)
	sub := subscribe(t, context.Background(), s, "hang", 1)
	sub.take(t, 1)
	// Healthy silence is no error: the check on the server succeeds.
	select {
	case errs := <-sub.ended:
		t.Fatalf("a healthy subscription ended with errors %v during a silence", errs)
	case <-time.After(timeout * 3 / 2):
	}
	storetest.MustAppend(t, s, "hang", eventstore.Exact(1), storetest.Events("E", 1)...)
	sub.take(t, 1)
	srv.SetFault(esdbtest.Hang)
	start = time.Now()
	sub.end(t, "a subscription whose server stopped answering", start, 2*timeout+faulttest.Slack, srv.URI(), ErrUnreachable)
}

// TestSubscribeEventWithoutCreated: an event the client would end the
// process on, met by a subscription, ends it with ErrBadAnswer, whether it
// comes while catching up or live.
func TestSubscribeEventWithoutCreated(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	storetest.MustAppend(t, s, "nocreated", eventstore.NoStream(), storetest.Events("E", 2)...)

	sub := subscribe(t, context.Background(), s, "nocreated", 0)
	sub.take(t, 2)
	srv.SetFault(esdbtest.NoCreated)
	start := time.Now()
	// Stored, but the append's read of it back meets the fault too.
	if _, err := s.Append(context.Background(), "nocreated", eventstore.Exact(1), storetest.Events("E", 1)...); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("Append: %v, want ErrBadAnswer from reading the event back", err)
	}
	sub.end(t, "an event without created, live", start, faulttest.Slack, srv.URI(), ErrBadAnswer)

	start = time.Now()
	subscribe(t, context.Background(), s, "nocreated", 0).end(t, "an event without created, catching up", start, faulttest.Slack, srv.URI(), ErrBadAnswer)

	srv.SetFault(esdbtest.None)
	subscribe(t, context.Background(), s, "nocreated", 1).take(t, 2)
}

// TestSubscribeClose: Close ends a subscription that waits for the server
// to confirm it, and one that waits for events, with ErrClosed, long
// before the timeout.
func TestSubscribeClose(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: time.Minute})
	storetest.MustAppend(t, s, "closing", eventstore.NoStream(), storetest.Events("E", 1)...)
	live := subscribe(t, context.Background(), s, "closing", 0)
	live.take(t, 1)
	srv.SetFault(esdbtest.Hang)
	unconfirmed := subscribe(t, context.Background(), s, "closing", 0)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	s.Close()
	live.end(t, "a live subscription on Close", start, faulttest.Slack, srv.URI(), eventstore.ErrClosed)
	unconfirmed.end(t, "an unconfirmed subscription on Close", start, faulttest.Slack, srv.URI(), eventstore.ErrClosed)
}

// TestSubscribeBeyondAnyRevision: a subscription from a revision no stream
// reaches asks the server nothing and waits for its end.
func TestSubscribeBeyondAnyRevision(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	storetest.MustAppend(t, s, "far", eventstore.NoStream(), storetest.Events("E", 1)...)
	ctx, cancel := context.WithCancel(context.Background())
	sub := subscribe(t, ctx, s, "far", 1<<63+5)
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case errs := <-sub.ended:
		if len(errs) > 0 {
			t.Fatalf("errors %v", errs)
		}
	case <-time.After(faulttest.Slack):
		t.Fatal("the subscription did not end with its context")
	}
	if len(sub.events) > 0 {
		t.Fatal("the subscription yielded an event")
	}
	sub = subscribe(t, context.Background(), s, "far", 1<<63+5)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	s.Close()
	sub.end(t, "Close", start, faulttest.Slack, srv.URI(), eventstore.ErrClosed)
}
