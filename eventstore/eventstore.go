// Package eventstore is the append-only log that treaty keeps its events in.
//
// It knows streams, revisions and bytes, and nothing about treaties: callers
// hand it opaque event data and metadata and read them back in order. Every
// backend lives in a subpackage, registers itself under a URI scheme with
// Register, and is chosen at run time by Open, the way database/sql picks a
// driver. A backend is correct when it passes the shared suite in
// eventstore/storetest unchanged.
//
// The package must never interpret event payloads: meaning belongs to the
// domain package, and a store that understood treaties could not be swapped.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Store is an append-only log of named streams. Implementations are safe for
// concurrent use by several goroutines, and the embedded backend also by
// several processes sharing one file.
type Store interface {
	// Append writes events at the end of stream, atomically: either all of
	// them land, at consecutive revisions, or none does. expected is checked
	// against the stream's current revision inside the same atomic step; a
	// mismatch returns an error wrapping ErrWrongExpectedRevision and appends
	// nothing.
	//
	// Appending is idempotent by event ID, as in KurrentDB: when every event
	// of the batch is already stored in stream, in the same order at
	// consecutive revisions, and expected would have held for the original
	// append (or is Any), Append appends nothing and reports the revision of
	// the last of them. A batch in which only some IDs are already stored, or
	// whose IDs are stored in another stream, fails with ErrDuplicateEvent.
	//
	// The returned revision is the revision of the last event of the batch.
	// An empty batch is refused with ErrEmptyAppend; an empty stream name,
	// a nil event ID or a type that is empty or not valid UTF-8 with
	// ErrInvalid; an ID twice in the batch with ErrDuplicateEvent. Every
	// backend refuses these alike, through CheckBatch.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (uint64, error)

	// Read yields the events of stream in revision order, starting at
	// revision from, as a snapshot taken when iteration starts or a live
	// view (either way no event is skipped or repeated). Reading a stream
	// that does not exist yields one error wrapping ErrStreamNotFound.
	// Reading from beyond the end yields nothing. Stopping the iteration
	// early releases the underlying resources. A stream whose stored
	// revisions have a gap ends with an error wrapping ErrCorrupt.
	Read(ctx context.Context, stream string, from uint64) iter.Seq2[RecordedEvent, error]

	// Streams lists the streams whose names start with prefix, sorted by
	// name in byte order, each with its number of events.
	Streams(ctx context.Context, prefix string) ([]StreamInfo, error)

	// Close releases the store. Calls after Close fail with an error
	// wrapping ErrClosed; closing twice is harmless.
	Close() error
}

// EventData is an event about to be appended.
type EventData struct {
	// ID identifies the event across every stream and store; appending an
	// ID that is already stored is a no-op (see Store.Append).
	ID uuid.UUID
	// Type names the kind of event, in UTF-8; it is part of the public
	// contract of the code that writes it and is never reused with another
	// meaning.
	Type string
	// Data and Metadata are JSON documents; the store keeps their bytes as
	// given.
	Data     []byte
	Metadata []byte
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	Stream string
	// Revision is the event's 0-based position in its stream.
	Revision uint64
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
	// Created is the store's own clock when the event was appended, in UTC.
	// It is informational: the writer's time belongs in Metadata.
	Created time.Time
}

// StreamInfo describes one stream.
type StreamInfo struct {
	Name string
	// Events is the number of events in the stream; its last revision is
	// Events-1.
	Events uint64
}

// ExpectedRevision is the optimistic-concurrency condition of an append: what
// the writer believes the end of the stream to be. Use Any, NoStream,
// StreamExists or Exact.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// Any appends whatever the stream's state.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectAny} }

// NoStream appends only if the stream has no events yet.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// StreamExists appends only if the stream has at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: expectStreamExists} }

// Exact appends only if the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: r} }

// IsAny, IsNoStream and IsStreamExists report the kind of condition; Revision
// reports the exact revision and whether the condition is Exact. Backends use
// them to translate the condition into their own terms.
func (e ExpectedRevision) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedRevision) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }
func (e ExpectedRevision) Revision() (uint64, bool) {
	return e.revision, e.kind == expectExact
}

// Holds reports whether the condition holds for a stream whose number of
// events is n.
func (e ExpectedRevision) Holds(n uint64) bool {
	switch e.kind {
	case expectNoStream:
		return n == 0
	case expectStreamExists:
		return n > 0
	case expectExact:
		return n > 0 && e.revision == n-1
	}
	return true
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprintf("revision %d", e.revision)
	}
	return "any"
}

// Errors every backend reports, wrapped with detail; test with errors.Is.
var (
	// ErrWrongExpectedRevision: the stream moved on since the writer read
	// it. Read the new events, decide again and retry.
	ErrWrongExpectedRevision = errors.New("wrong expected revision")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrDuplicateEvent: some event IDs of the batch are already stored,
	// but not as a repeat of one earlier append to this stream.
	ErrDuplicateEvent = errors.New("event ID already stored")
	// ErrEmptyAppend: Append was called without events.
	ErrEmptyAppend = errors.New("no events to append")
	// ErrUnknownScheme: Open was given a URI whose scheme no backend
	// registered.
	ErrUnknownScheme = errors.New("unknown store scheme")
	// ErrReadOnly: the store was opened read-only, or its file cannot be
	// written.
	ErrReadOnly = errors.New("store is read-only")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrInvalid: Append was given an empty stream name, an event with the
	// nil ID or an event whose type is empty or not valid UTF-8.
	ErrInvalid = errors.New("invalid append")
	// ErrCorrupt: what is stored breaks the log's own invariants (a gap in
	// a stream's revisions, say): the store was changed behind the
	// backend's back. Restore it from a copy.
	ErrCorrupt = errors.New("stored log is damaged")
)

// WrongRevisionError details ErrWrongExpectedRevision.
type WrongRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	// Events is the number of events the stream actually holds.
	Events uint64
}

func (e *WrongRevisionError) Error() string {
	return fmt.Sprintf("append to %s expected %s but the stream holds %d events", e.Stream, e.Expected, e.Events)
}

// Unwrap makes errors.Is(err, ErrWrongExpectedRevision) hold.
func (e *WrongRevisionError) Unwrap() error { return ErrWrongExpectedRevision }

// Config is what Open passes to a backend.
type Config struct {
	// Create lets the backend create a store that does not exist yet (for
	// the embedded store: the file). Without it, opening a missing store
	// fails with an error wrapping ErrStoreNotFound.
	Create bool
	// ReadOnly opens the store for reading only; Append fails with
	// ErrReadOnly.
	ReadOnly bool
	// Timeout bounds how long opening and each call may wait for a server
	// or a lock before failing. Zero means the backend's default.
	Timeout time.Duration
	// Appending says the caller opens the store to append soon, after a
	// few reads: a backend may ready its write path beside those reads
	// rather than at the first append. It changes no answer.
	Appending bool
	// Readers says how many reads the caller will make side by side soon
	// after opening: a backend may open that many connections beside the
	// first reads rather than at the first read that finds none idle. It
	// changes no answer.
	Readers int
}

// ErrStoreNotFound: Open was asked for a store that does not exist and may not
// create it.
var ErrStoreNotFound = errors.New("store not found")

// Option adjusts the Config Open passes to the backend.
type Option func(*Config)

// Create lets Open create the store when it does not exist.
func Create() Option { return func(c *Config) { c.Create = true } }

// ReadOnly opens the store for reading only.
func ReadOnly() Option { return func(c *Config) { c.ReadOnly = true } }

// Appending says the store is opened to append after a few reads (see
// Config.Appending).
func Appending() Option { return func(c *Config) { c.Appending = true } }

// Readers says the caller will make n reads side by side soon after
// opening (see Config.Readers).
func Readers(n int) Option { return func(c *Config) { c.Readers = n } }

// Timeout bounds waits for a server or a lock.
func Timeout(d time.Duration) Option { return func(c *Config) { c.Timeout = d } }

// Opener opens a store for a URI of the scheme it was registered under. uri is
// passed whole, scheme included.
type Opener func(ctx context.Context, uri string, cfg Config) (Store, error)

// OpenerOf makes an Opener of a backend's own Open, which returns its own
// store type S: a failed open returns a nil Store, not a nil S, which in an
// interface would not be nil.
func OpenerOf[S Store](open func(ctx context.Context, uri string, cfg Config) (S, error)) Opener {
	return func(ctx context.Context, uri string, cfg Config) (Store, error) {
		s, err := open(ctx, uri, cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes a backend available to Open under scheme (e.g. "sqlite").
// It panics if scheme is registered twice, as database/sql.Register does:
// that is a programming error, not a run-time condition.
func Register(scheme string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[scheme]; dup {
		panic("eventstore: Register called twice for scheme " + scheme)
	}
	registry[scheme] = open
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s := make([]string, 0, len(registry))
	for k := range registry {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// DefaultScheme is the scheme a URI without one is taken to have: a bare path
// names an embedded store file.
const DefaultScheme = "sqlite"

// Open opens the store that uri names, choosing the backend by the URI's
// scheme ("sqlite:PATH", "esdb://…"). A URI without a scheme is a file path
// for the embedded store.
func Open(ctx context.Context, uri string, opts ...Option) (Store, error) {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	scheme := Scheme(uri)
	registryMu.RLock()
	open, ok := registry[scheme]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q in %q: known schemes are %s", ErrUnknownScheme, scheme, Redact(uri), strings.Join(Schemes(), ", "))
	}
	if scheme == DefaultScheme && !strings.HasPrefix(uri, scheme+":") {
		uri = scheme + ":" + uri
	}
	return open(ctx, uri, cfg)
}

// Scheme returns the scheme of a store URI: the part before the first ':' when
// that part looks like a URI scheme and is longer than one letter (so that
// "C:\x.db" and "./a:b.db" stay paths), else DefaultScheme.
func Scheme(uri string) string {
	i := strings.IndexByte(uri, ':')
	if i < 2 {
		return DefaultScheme
	}
	s := uri[:i]
	for j, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return DefaultScheme
		}
	}
	return strings.ToLower(s)
}

// Cache is a capability some stores have: a place beside the log for data
// derived from it, such as projection checkpoints. Cached entries are not
// events: they may be lost, deleted or never written without changing any
// answer, and Read never returns them. Check for it with a type assertion.
type Cache interface {
	// CacheGet returns the value stored under key, or nil and no error when
	// there is none. The bytes are the caller's: no later call changes them.
	CacheGet(ctx context.Context, key string) ([]byte, error)
	// CachePut stores value under key, replacing any earlier value. On a
	// read-only store it fails with an error wrapping ErrReadOnly.
	CachePut(ctx context.Context, key string, value []byte) error
	// CacheKeys lists the keys that start with prefix, in byte order.
	CacheKeys(ctx context.Context, prefix string) ([]string, error)
	// CacheDelete removes key; removing an absent key is not an error. On
	// a read-only store it fails with an error wrapping ErrReadOnly.
	CacheDelete(ctx context.Context, key string) error
}

// Sequence makes the sequence that a backend's Read or Subscribe returns
// from run, which yields the events of stream from revision from on and
// returns the error that ends them, if any: Sequence yields that error
// once, after the events. run returns nil when the sequence ends without
// an error, and once yield has asked to stop.
func Sequence(ctx context.Context, stream string, from uint64,
	run func(ctx context.Context, stream string, from uint64, yield func(RecordedEvent, error) bool) error) iter.Seq2[RecordedEvent, error] {
	return func(yield func(RecordedEvent, error) bool) {
		if err := run(ctx, stream, from, yield); err != nil {
			yield(RecordedEvent{}, err)
		}
	}
}

// SubscriptionEnded is the error a subscription ended by err yields, as
// Subscriber specifies: none once ctx is done (the caller ended it),
// closed (the backend's error wrapping ErrClosed, nil while the store is
// open) once the store is closed, else err.
func SubscriptionEnded(ctx context.Context, closed, err error) error {
	switch {
	case ctx.Err() != nil:
		return nil
	case closed != nil:
		return closed
	}
	return err
}

// Subscriber is a capability some stores have: following a stream live.
// Check for it with a type assertion.
type Subscriber interface {
	// Subscribe yields the events of stream from revision from on, in
	// order, and then each new event as it is appended, until ctx ends
	// (the sequence then stops without an error) or the store fails (one
	// error, then the end). A stream with no events yet is waited for, not
	// an error. Breaking out of the iteration ends the subscription.
	Subscribe(ctx context.Context, stream string, from uint64) iter.Seq2[RecordedEvent, error]
}
