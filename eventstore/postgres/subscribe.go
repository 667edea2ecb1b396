package postgres

import (
	"context"
	"iter"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/treaty-engine/treaty/eventstore"
)

// pollInterval is how often a subscription that has caught up reads its
// stream's count even without a notification: in case the listening
// connection was lost without a word, or a notification was.
// Tests lower it.
var pollInterval = time.Second

// maxListenBackoff bounds the wait between attempts to reconnect the
// listening connection.
const maxListenBackoff = 2 * time.Second

// Subscribe yields the events of stream from revision from on, in revision
// order, and then each event appended later, by any process, as
// eventstore.Subscriber specifies. A stream with no events yet, and a from
// beyond its end, are waited for.
//
// The events are read as Read reads them, a page at a time, each page in a
// statement that ends before its events are yielded: a subscription holds
// no connection while it yields or waits. Once caught up it waits for a
// notification: every append sends one, in its own transaction, on a
// channel the store LISTENs to on a connection of its own (one for all its
// subscriptions); an append through this Store wakes it at once. It also
// reads every second without one. Woken, it reads from the revision it has
// reached, so a notification lost or merged with another loses nothing.
// When the listening connection drops, it is made again and every
// subscription reads; when a read fails on a lost connection it is tried
// again for up to the timeout, and the subscription goes on from where it
// was. The bytes of every event are the caller's to keep.
//
// The sequence ends without an error as soon as ctx is done, also while
// waiting. Once the store is closed it ends with one error wrapping
// eventstore.ErrClosed, at once if it waits; a read that fails for longer
// than the timeout ends it with its error, and a gap in the stream with
// ErrCorrupt.
func (s *Store) Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[eventstore.RecordedEvent, error] {
	return eventstore.Sequence(ctx, stream, from, s.subscribe)
}

func (s *Store) subscribe(ctx context.Context, stream string, from uint64, yield func(eventstore.RecordedEvent, error) bool) error {
	op := "subscribe to " + stream
	if err := s.checkOpen(op); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	s.startListening()
	tag := s.streamTag(stream)
	p := s.newPager(stream, from)
	timer := time.NewTimer(pollInterval)
	defer timer.Stop()
	for {
		// Taken before the read: a notification that comes after it
		// closes this very channel.
		woken := s.hub.wait(tag)
		evs, count, err := p.fetch(ctx, op, math.MaxInt64)
		if err != nil && len(evs) == 0 {
			return eventstore.SubscriptionEnded(ctx, s.checkOpen(op), err)
		}
		for _, e := range evs {
			if err := s.checkOpen(op); err != nil {
				return err
			}
			if ctx.Err() != nil || !yield(e, nil) {
				return nil
			}
		}
		if err != nil {
			return eventstore.SubscriptionEnded(ctx, s.checkOpen(op), err) // a gap after the events yielded
		}
		if count > int64(min(p.next, math.MaxInt64)) {
			continue // more than a page: read on
		}
		timer.Reset(pollInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-s.life.Done():
			return s.checkOpen(op)
		case <-woken:
		case <-timer.C:
		}
	}
}

// hub wakes the subscriptions waiting for a stream, by its tag.
type hub struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

// wait returns a channel closed at the next fire of tag, or of every tag.
func (h *hub) wait(tag string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting == nil {
		h.waiting = map[string]chan struct{}{}
	}
	ch, ok := h.waiting[tag]
	if !ok {
		ch = make(chan struct{})
		h.waiting[tag] = ch
	}
	return ch
}

// fire wakes the subscriptions waiting for tag.
func (h *hub) fire(tag string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch, ok := h.waiting[tag]; ok {
		close(ch)
		delete(h.waiting, tag)
	}
}

// fireAll wakes every subscription.
func (h *hub) fireAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for tag, ch := range h.waiting {
		close(ch)
		delete(h.waiting, tag)
	}
}

// startListening starts, once, the goroutine that LISTENs for the store's
// notifications and wakes subscriptions with them.
func (s *Store) startListening() {
	s.listen.Do(func() { go s.listenLoop() })
}

// listenLoop keeps a connection listening until Close, making it again
// (after a growing pause) whenever it fails. After each (re)connection it
// wakes every subscription: it may have missed notifications meanwhile.
func (s *Store) listenLoop() {
	defer close(s.listening)
	delay := firstBackoff
	for s.life.Err() == nil {
		if s.listenOnce() {
			delay = firstBackoff
		}
		s.hub.fireAll()
		t := time.NewTimer(delay)
		select {
		case <-s.life.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, maxListenBackoff)
	}
}

// listenOnce connects, listens and hands notifications to the hub until
// the connection fails or the store closes. It reports whether it was
// listening.
func (s *Store) listenOnce() bool {
	ctx, cancel := context.WithTimeout(s.life, s.timeout)
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err == nil {
		_, err = conn.Exec(ctx, "LISTEN "+notifyChannel)
	}
	cancel()
	if conn != nil {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			conn.Close(ctx)
		}()
	}
	if err != nil {
		return false
	}
	s.hub.fireAll() // appends made before LISTEN took effect
	for {
		n, err := conn.WaitForNotification(s.life)
		if err != nil {
			return true
		}
		s.hub.fire(n.Payload)
	}
}
