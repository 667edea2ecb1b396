package esdb

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/treaty-engine/treaty/eventstore"
)

// conn is one client and the calls inside it. Two facts about the v4 client
// shape it (both in esdb/impl.go):
//
//   - Every call hands a request to the client's connection goroutine over
//     an unbuffered channel (getConnectionHandle), and Close closes that
//     channel (grpcClient.close). Closing it while a call is sending is a
//     data race and makes the sender panic, so a client is closed only
//     once no call is inside it: the last call out closes it.
//   - The connection goroutine connects on the first request, and if that
//     fails it marks the client closed and returns (connectionStateMachine)
//     without answering the requests queued behind it, whose senders then
//     wait forever. So a new client takes one call at a time until one has
//     connected: the others wait for it, bounded by their own contexts.
type conn struct {
	client *esdb.Client
	// gate admits one call at a time until one has connected.
	gate      chan struct{}
	connected atomic.Bool

	mu      sync.Mutex
	active  int  // calls inside the client
	closing bool // close the client when the last call leaves
	closed  bool
}

// enter counts a call in, unless the client is being closed.
func (k *conn) enter() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closing {
		return false
	}
	k.active++
	return true
}

// leave counts a call out, closing the client if it was the last one of a
// client being closed.
func (k *conn) leave() {
	k.mu.Lock()
	k.active--
	shut := k.closing && k.active == 0 && !k.closed
	k.closed = k.closed || shut
	k.mu.Unlock()
	if shut {
		k.client.Close()
	}
}

// shutdown closes the client now if no call is inside it, else when the
// last one leaves.
func (k *conn) shutdown() {
	k.mu.Lock()
	k.closing = true
	shut := k.active == 0 && !k.closed
	k.closed = k.closed || shut
	k.mu.Unlock()
	if shut {
		k.client.Close()
	}
}

// call is one use of a client, from begin to end.
type call struct {
	s     *Store
	k     *conn
	gated bool // holds k.gate
	once  sync.Once
}

// longCall begins a call that may outlast the timeout (a read or a
// subscription, each event of which the timeout bounds instead): it returns
// the context the call runs in, which ends with ctx or the store's life,
// the call, and release, which cancels that context. Only beginning is
// bounded by the timeout.
func (s *Store) longCall(ctx context.Context) (context.Context, *call, func(), error) {
	rctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.life, cancel)
	release := func() { stop(); cancel() }
	bctx, bcancel := context.WithTimeout(rctx, s.timeout)
	cl, err := s.begin(bctx)
	bcancel()
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return rctx, cl, release, nil
}

// begin starts a call: it returns the store's client, connecting a new one
// if there is none, and waits (within ctx) while another call connects it.
// The caller must call end when it no longer uses the client, from
// whichever goroutine used it last.
func (s *Store) begin(ctx context.Context) (*call, error) {
	for {
		k, err := s.current()
		if err != nil {
			return nil, err
		}
		if !k.enter() {
			continue // dropped meanwhile: take its successor
		}
		if k.connected.Load() {
			return &call{s: s, k: k}, nil
		}
		select {
		case k.gate <- struct{}{}:
		case <-ctx.Done():
			k.leave()
			return nil, ctx.Err()
		}
		if k.connected.Load() {
			<-k.gate
			return &call{s: s, k: k}, nil
		}
		k.mu.Lock()
		gone := k.closing
		k.mu.Unlock()
		if gone {
			<-k.gate
			k.leave()
			continue
		}
		return &call{s: s, k: k, gated: true}, nil
	}
}

// current returns the store's client, making one if there is none.
func (s *Store) current() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if s.conn == nil {
		s.connectFailure.Store(nil) // the last client's
		conf := s.conf
		c, err := esdb.NewClient(&conf)
		if err != nil {
			return nil, err
		}
		s.conn = &conn{client: c, gate: make(chan struct{}, 1)}
	}
	return s.conn, nil
}

// connected records how the part of the call that may connect ended: with
// err. A client that failed for good is dropped, so that the next call
// connects afresh; any other outcome means it connected. Later calls are
// no-ops.
func (c *call) connected(err error) {
	c.once.Do(func() {
		if dead(err) {
			c.s.drop(c.k)
		} else if c.gated {
			c.k.connected.Store(true)
		}
		if c.gated {
			<-c.k.gate
		}
	})
}

// end ends the call.
func (c *call) end(err error) {
	c.connected(err)
	if dead(err) {
		c.s.drop(c.k)
	}
	c.k.leave()
}

// drop forgets k, which failed for good, and closes it once no call is
// inside it.
func (s *Store) drop(k *conn) {
	s.mu.Lock()
	if s.conn == k {
		s.conn = nil
	}
	s.mu.Unlock()
	k.shutdown()
}

// do runs f with the client on a goroutine of its own and waits for it at
// most until ctx is done, the timeout passes or the store is closed. The
// client waits without a context where it hands each call to its
// connection goroutine (esdb/impl.go, getConnectionHandle), which blocks for
// as long as connecting takes; the goroutine lets the caller go on time. f's
// ctx is cancelled when do returns, so f must not start anything that
// outlives it.
func (s *Store) do(ctx context.Context, f func(ctx context.Context, c *esdb.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	stop := context.AfterFunc(s.life, cancel)
	defer stop()
	cl, err := s.begin(ctx)
	if err != nil {
		return err
	}
	return wait(ctx, func() (err error) {
		defer func() { cl.end(err) }() // also when f panics: the client answered
		return f(ctx, cl.k.client)
	})
}
