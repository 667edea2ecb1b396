// Package postgres is the event store in a PostgreSQL database (13 or
// later), reached through github.com/jackc/pgx/v5 and its pool.
//
// It registers itself with eventstore under the schemes "postgres" and
// "postgresql", so that eventstore.Open(ctx, "postgres://…") opens it. The
// URI is libpq's, read as libpq reads it (pgx's parser): user and password,
// one host or several (postgres://h1,h2/db), the database, and settings such
// as sslmode, sslrootcert, connect_timeout, target_session_attrs and
// application_name; PG* environment variables and ~/.pgpass fill in what it
// leaves out. Any other setting is a server setting for treaty's sessions
// (search_path=treaty keeps the store in the schema treaty); a setting the
// server does not know is refused when connecting. pool_max_conns (default
// 10) bounds the connections one Store opens. The password is never shown:
// errors name the URI with it redacted (eventstore.Redact).
//
// A Store passes eventstore/storetest unchanged:
//
//   - The schema lives in the database the URI names, in its current schema
//     (the first of search_path that exists; public by default): the tables
//     treaty_events, treaty_streams, treaty_cache and treaty_schema, made by
//     the numbered files in migrations/, applied in one transaction under
//     an advisory lock when a store is first opened with Config.Create, and
//     recorded in treaty_schema. A schema written by a newer treaty is
//     refused (ErrNewerSchema) and left alone.
//   - Event data and metadata are bytea: the exact bytes given, which json
//     or jsonb would re-encode (jsonb reorders keys), breaking the hash
//     chain that treaty keeps in the metadata.
//   - An append is one transaction. It first takes a transaction-scoped
//     advisory lock on its stream, so that appends to one stream queue
//     behind each other (appends to others do not), then reads the
//     stream's count and checks the expected revision and the repeat of an
//     earlier batch (eventstore.CheckRepeat) against what is committed, and
//     writes the events, the count and a notification. The database keeps
//     the invariants too: a unique key on (stream, revision) and one on the
//     event ID across every stream.
//   - An append that meets a lost connection, a server shutting down or
//     starting up, or a deadlock is tried again, on another connection,
//     until the timeout: the batch's event IDs make that safe. If the lost
//     attempt did commit, the retry is an exact repeat of it and appends
//     nothing (reporting its revision); if it did not, the retry appends it.
//     Nothing is appended twice and no acknowledged append is lost.
//   - Read pages through a stream by revision, a statement a page, so that
//     memory and the time a connection is held stay flat however long the
//     stream; it is a live view, and sees appends made while it reads.
//   - The store keeps a cache beside the log (eventstore.Cache), in
//     treaty_cache.
//   - Subscribe (eventstore.Subscriber) follows a stream with LISTEN and
//     NOTIFY: every append notifies, in its own transaction, and each
//     subscription reads from the revision it has reached when woken, so a
//     notification missed or merged loses nothing; it also looks every
//     second, in case the listening connection is lost unnoticed. A
//     dropped connection is reconnected and the subscription goes on from
//     where it was.
//
// Failure is bounded: opening and every call wait at most the configured
// timeout (DefaultTimeout unless eventstore.Timeout says otherwise) for the
// server, a connection or another writer's lock, trying again meanwhile
// where that is safe; a read waits at most that long for each page. Errors
// name the URI, say what to check, and wrap ErrUnreachable when the server
// could not be reached in time.
//
// Treaty needs, in that schema: CREATE (once, to make its tables), then
// SELECT, INSERT, UPDATE and DELETE on them. A user with SELECT alone may
// read (writes then fail with eventstore.ErrReadOnly), and so may a hot
// standby. Replication, backups and point-in-time recovery are the
// database's own.
//
// The package must never interpret event payloads, and never change a
// table it did not make.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/treaty-engine/treaty/eventstore"
)

// Schemes this backend registers: libpq takes both.
const (
	scheme      = "postgres"
	schemeLong  = "postgresql"
	defaultConn = 10 // pool_max_conns unless the URI says
)

// DefaultTimeout bounds each call when eventstore.Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

var (
	// ErrUnreachable: the server could not be reached, or did not answer,
	// within the timeout. Check that it runs and accepts connections at
	// the URI's host and port, and its sslmode; then retry.
	ErrUnreachable = errors.New("PostgreSQL server unreachable")
	// ErrNewerSchema: the database holds a store written by a newer
	// treaty, whose schema this code does not know. Nothing was changed;
	// upgrade treaty.
	ErrNewerSchema = errors.New("store written by a newer treaty")
)

func init() {
	open := eventstore.OpenerOf(Open)
	eventstore.Register(scheme, open)
	eventstore.Register(schemeLong, open)
}

// Store is an event store in a PostgreSQL database. It implements
// eventstore.Store, eventstore.Cache and eventstore.Subscriber, and is safe
// for concurrent use by several goroutines, and by several processes on the
// same database.
type Store struct {
	uri      string   // as messages show it: the password redacted
	secrets  []string // the password's forms, scrubbed from the driver's errors
	pool     *pgxpool.Pool
	timeout  time.Duration
	readOnly bool
	// schema is the schema the tables are in; it names the store in
	// advisory lock keys and notifications, which are database-wide.
	schema string

	// life ends with Close, and with it every call in progress.
	life   context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	// hub wakes the subscriptions of a stream when it may have grown;
	// listen starts the goroutine that feeds it from NOTIFY, once.
	hub    hub
	listen sync.Once
	// listening is closed when that goroutine has ended (or never started).
	listening chan struct{}
}

var (
	_ eventstore.Store      = (*Store)(nil)
	_ eventstore.Cache      = (*Store)(nil)
	_ eventstore.Subscriber = (*Store)(nil)
)

// Open connects to the database that uri names, checks its schema (and
// with cfg.Create makes it, or brings it up to date), all within
// cfg.Timeout (DefaultTimeout when zero) and ctx, trying again while the
// server refuses connections or is starting up.
//
// A database without treaty's tables fails with an error wrapping
// eventstore.ErrStoreNotFound unless cfg.Create; a store written by a newer
// treaty with ErrNewerSchema; a server that cannot be reached in time with
// ErrUnreachable. Every error names the URI, its password redacted. With
// cfg.ReadOnly nothing is ever written: Append and the cache's writes fail
// with eventstore.ErrReadOnly, and the sessions are read-only on the
// server too.
func Open(ctx context.Context, uri string, cfg eventstore.Config) (*Store, error) {
	pc, shown, secrets, err := parseURI(uri, cfg.ReadOnly)
	if err != nil {
		return nil, err
	}
	s := &Store{uri: shown, secrets: secrets, timeout: cfg.Timeout, readOnly: cfg.ReadOnly, listening: make(chan struct{})}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.life, s.cancel = context.WithCancel(context.Background())
	if s.pool, err = pgxpool.NewWithConfig(s.life, pc); err != nil {
		s.cancel()
		return nil, fmt.Errorf("open store %s: %w", s.uri, s.scrub(err))
	}
	if err := s.prepare(ctx, cfg); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// URI returns the URI the store was opened with, its password redacted.
func (s *Store) URI() string { return s.uri }

// Schema returns the database schema that holds the store's tables.
func (s *Store) Schema() string { return s.schema }

// Close ends every call in progress and closes the connections. Calls made
// after Close fail with an error wrapping eventstore.ErrClosed; a Read
// iteration still running ends with that error at its next event, a
// Subscribe iteration at once if it waits. Closing twice is harmless.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.listen.Do(func() { close(s.listening) }) // never started: nothing to wait for
	<-s.listening
	// The pool waits for every connection taken to be given back. A Read
	// whose caller holds its iteration while it calls Close would never
	// give its connection back, so wait only a moment: the rest close
	// as they are released.
	closed := make(chan struct{})
	go func() { s.pool.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Second):
	}
	return nil
}

// checkOpen reports ErrClosed once Close has been called.
func (s *Store) checkOpen(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
	}
	return nil
}

// readOnlyErr is the refusal of a write to a store opened read-only.
func (s *Store) readOnlyErr(op string) error {
	return fmt.Errorf("%s: %s was opened read-only: %w", op, s.uri, eventstore.ErrReadOnly)
}
