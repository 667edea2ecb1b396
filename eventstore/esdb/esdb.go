// Package esdb is the event store on a KurrentDB / EventStoreDB server,
// reached through github.com/EventStore/EventStore-Client-Go/v4 over gRPC.
//
// It registers itself with eventstore under the schemes "esdb" and
// "esdb+discover", so that eventstore.Open(ctx, "esdb://host:2113") opens it.
// The URI is the client's connection string, credentials and TLS settings
// included (esdb://user:password@host:2113?tls=false&tlsVerifyCert=false,
// gossip seeds as esdb://h1:2113,h2:2113,h3:2113, a DNS-discovered cluster
// as esdb+discover://cluster.example.org); a setting the client does not
// know is refused rather than ignored. Note that the client sends the user
// name and password only over TLS: with tls=false the server sees an
// anonymous user.
//
// A Store passes eventstore/storetest unchanged. What the server itself does
// not give, it adds on the client side:
//
//   - Event IDs are unique across streams. KurrentDB only recognises a
//     repeated append within a window of recent events of the same stream,
//     and never looks at other streams. The backend therefore reserves every
//     event ID before it appends the event, in a stream of its own named
//     "_eventid-<uuid>", created with expected revision NoStream so that the
//     server lets exactly one stream have it. The reservation also records
//     the revision each append attempt meant to give the event, so that a
//     repeated batch is found at its place in the stream however old it is.
//     Appends are made with the exact revision the backend observed, never
//     Any, so an event lands exactly where its reservation says. Together
//     these keep the Store contract (an exact repeat is a no-op, a partial
//     repeat or an ID of another stream is ErrDuplicateEvent) under any
//     number of concurrent writers, provided every writer of the server's
//     treaty streams goes through this backend and nobody deletes the
//     reservation streams. The cost is one extra small append per event
//     (and a read of the stream's end unless the expected revision is
//     NoStream or Exact), and a read of the batch once appended, which
//     checks that the server answered the append's revision right and kept
//     the event IDs as given: the reservations are no use otherwise.
//     An ID once reserved for a stream stays reserved for it, even when the
//     append that reserved it then failed: appending it to another stream
//     later is ErrDuplicateEvent.
//   - Stream names starting with "_eventid-" are reserved (ErrInvalid),
//     and so are names that are not valid UTF-8, which the server cannot
//     store as given.
//   - Streams lists by a filtered catch-up subscription to $all (the
//     client's ReadAll takes no filter), which needs permission to read $all;
//     it never lists reservation streams, nor system streams ("$…") unless
//     the prefix asks for them.
//   - The store keeps no cache (it does not implement eventstore.Cache):
//     projections fold from the first event.
//   - Subscribe (eventstore.Subscriber) follows a stream through a
//     catch-up subscription to it, and checks on the server whenever the
//     subscription has been silent for the timeout, so that a connection
//     that dropped without a word ends it with an error (see subscribe.go).
//
// Failure is bounded: every call waits at most for its context, the
// configured timeout (DefaultTimeout unless eventstore.Timeout says
// otherwise) and Close, whichever comes first, even where the client itself
// waits without a context; a panic in the client becomes an error; a server
// answer on which the client would end the process is refused before the
// client decodes it (see guard.go). Where the client blocks a call for good
// (sending to its connection goroutine after that goroutine gave up), the
// call stays blocked on a goroutine of its own and the caller goes on.
// Errors name the URI with its password
// redacted and say what to check; test them with errors.Is against the
// eventstore errors and ErrUnreachable and ErrBadAnswer.
//
// The package must never interpret event payloads, and never let the client
// log to the process's standard error or end the process.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// DefaultTimeout bounds each call when eventstore.Config.Timeout is zero:
// connecting, each append, the wait for each event of a read.
const DefaultTimeout = 10 * time.Second

var (
	// ErrUnreachable: the server could not be reached or did not answer
	// within the timeout. Check that it runs and is reachable, the URI's
	// host and port, its TLS settings and credentials; then retry.
	ErrUnreachable = errors.New("event store server unreachable")
	// ErrBadAnswer: the server sent an answer this client cannot use. Check
	// that the URI names a KurrentDB or EventStoreDB server (20.10 or later).
	ErrBadAnswer = errors.New("event store server sent an answer this client cannot use")
)

func init() {
	open := eventstore.OpenerOf(Open)
	eventstore.Register(scheme, open)
	eventstore.Register(schemeDiscover, open)
}

// Store is an event store on a KurrentDB / EventStoreDB server. It
// implements eventstore.Store and is safe for concurrent use by several
// goroutines, and by several processes on the same server.
type Store struct {
	uri      string // as errors show it: the password redacted
	conf     esdb.Configuration
	timeout  time.Duration
	readOnly bool

	// life ends with Close, and with it every call in progress.
	life   context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	mu   sync.Mutex
	conn *conn // nil until needed, and after it failed for good

	// connectFailure is why the client's last attempt to connect failed,
	// as it logged it; nil once one succeeded (see clientLog).
	connectFailure atomic.Pointer[string]
}

var _ eventstore.Store = (*Store)(nil)

// probeStream is read by Open to check the server answers: the reservation
// stream of the nil ID, which never exists (Append refuses nil IDs).
var probeStream = claimStream(uuid.Nil)

// Open connects to the server that uri names and checks that it answers a
// read, all within cfg.Timeout (DefaultTimeout when zero) and ctx. A URI the
// client cannot use, a server that cannot be reached or does not answer,
// and refused credentials fail with an error naming the URI (password
// redacted) and saying what to check; an unreachable or silent server's
// error wraps ErrUnreachable.
//
// With cfg.ReadOnly, Append fails with eventstore.ErrReadOnly. cfg.Create
// has no meaning here: a server's store always exists.
func Open(ctx context.Context, uri string, cfg eventstore.Config) (*Store, error) {
	conf, shown, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	s := &Store{uri: shown, conf: *conf, timeout: cfg.Timeout, readOnly: cfg.ReadOnly}
	s.conf.Logger = s.clientLog
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	if _, err := s.head(ctx, probeStream); err != nil {
		err = s.explain(ctx, "connect", err) // before Close, which would make it ErrClosed
		s.Close()
		return nil, err
	}
	return s, nil
}

// URI returns the connection string the store was opened with, its
// password redacted.
func (s *Store) URI() string { return s.uri }

// Close ends every call in progress and releases the connection. Calls made
// after Close fail with an error wrapping eventstore.ErrClosed, and a Read
// iteration still running ends with that error. Closing twice is harmless.
//
// Every goroutine of the store and its client has ended once Close returns
// and the calls it cut short have left the client, with one exception in
// the client: while it is still trying to connect, its discovery (the
// client's connection goroutine, esdb/impl.go, discoverNode) runs without a
// context, and the store closes the client once it gives up, after at most
// maxDiscoverAttempts × (gossipTimeout + discoveryInterval), about 51 s
// with the URI's defaults. See TestCloseLeavesNoGoroutines.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.mu.Lock()
	k := s.conn
	s.conn = nil
	s.mu.Unlock()
	if k != nil {
		k.shutdown() // once the calls just cancelled have left the client
	}
	return nil
}

// wait runs f on a goroutine of its own and returns its error, or ctx's
// error once ctx is done first. A panic in f becomes a *clientPanic. f may
// go on running after wait returns; it must not touch what the caller uses
// then.
func wait(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- &clientPanic{r}
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done:
			return err
		default:
			return ctx.Err()
		}
	}
}

// clientPanic is a panic in the client, made an error. The client panics on
// a read response it does not expect (esdb/reads.go, Recv: "unreachable
// code") and on some malformed answers (a nil field it dereferences).
type clientPanic struct{ value any }

// unreachable is the client's panic on a read response other than an event
// or stream-not-found (esdb/reads.go, ReadStream.Recv), such as the
// first_stream_position and last_stream_position messages servers send to
// clients that ask for them, and servers that ignore the asking to all.
const unreachable = "unreachable code"

func (p *clientPanic) Error() string {
	return fmt.Sprintf("the EventStore client panicked on it: %v", p.value)
}

// check reports why a call may not start: the store is closed or ctx is
// done.
func (s *Store) check(ctx context.Context, op string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", op, s.uri, err)
	}
	return nil
}
