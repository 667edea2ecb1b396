package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/treaty-engine/treaty/eventstore"
)

// notifyChannel is the channel every append notifies, with its stream's tag
// (see streamTag) as payload.
const notifyChannel = "treaty_events"

const (
	// lockSQL queues the append behind any other to the same stream.
	lockSQL = `SELECT pg_advisory_xact_lock($1::int, $2::int)`
	// headSQL reads the stream's count; run after lockSQL, it sees every
	// append committed before this one took the lock.
	headSQL = `SELECT events FROM treaty_streams WHERE name = $1`
	// findSQL finds where an event ID is stored.
	findSQL = `SELECT stream, revision FROM treaty_events WHERE id = $1`
	// runSQL lists the IDs of stream from a revision on, to tell a repeat.
	runSQL = `SELECT id FROM treaty_events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`
	// insertSQL writes a batch at revisions $2, $2+1, …, with the time of
	// the statement: the server's clock, taken once this append holds the
	// stream.
	insertSQL = `INSERT INTO treaty_events (stream, revision, id, type, data, metadata, created)
		SELECT $1, $2 + e.n - 1, e.id, e.type, e.data, e.metadata, statement_timestamp()
		FROM unnest($3::uuid[], $4::text[], $5::bytea[], $6::bytea[]) WITH ORDINALITY AS e(id, type, data, metadata, n)`
	countSQL = `INSERT INTO treaty_streams (name, events) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET events = excluded.events`
	notifySQL = `SELECT pg_notify('` + notifyChannel + `', $1)`
	// whereSQL finds where some event IDs are stored.
	whereSQL = `SELECT id, stream, revision FROM treaty_events WHERE id = ANY($1::uuid[])`
)

// noBytes stands for nil data or metadata: binding nil would store NULL.
var noBytes = []byte{}

// Append writes events at the end of stream as eventstore.Store.Append
// specifies, in one transaction: it takes the stream's advisory lock, checks
// expected and the repeat of an earlier batch against what is committed,
// writes the events and the stream's count, and notifies subscribers. It
// returns once the server has committed, which makes the append as durable
// as the server's settings make commits (synchronous_commit).
//
// An attempt that fails on the way to the server or back (a dropped
// connection, a server restarting, a deadlock with another append over an
// event ID) is made again until the timeout; a retry of an attempt that
// did commit finds its batch stored and appends nothing. Stream names and
// types must be valid UTF-8 without NUL bytes (ErrInvalid), as PostgreSQL
// stores text.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (uint64, error) {
	op := "append to " + stream
	if err := s.checkOpen(op); err != nil {
		return 0, err
	}
	if err := eventstore.CheckBatch(stream, events); err != nil {
		return 0, err
	}
	if err := checkText(stream, events); err != nil {
		return 0, err
	}
	if s.readOnly {
		return 0, s.readOnlyErr(op)
	}
	b := newBatch(events)
	var last uint64
	var unsure bool // an attempt sent COMMIT and heard nothing back
	err := s.call(ctx, op, func(ctx context.Context) error {
		var err error
		last, err = s.appendOnce(ctx, stream, expected, events, b, &unsure)
		return err
	})
	if err != nil {
		if unsure && !errors.Is(err, eventstore.ErrWrongExpectedRevision) && !errors.Is(err, eventstore.ErrDuplicateEvent) {
			return 0, fmt.Errorf("%w; the server may have committed the append before the connection failed: read %s to see whether it landed before acting again", err, stream)
		}
		return 0, err
	}
	s.hub.fire(s.streamTag(stream))
	return last, nil
}

// checkText refuses what PostgreSQL's text cannot hold as given: a stream
// name that is not valid UTF-8, and a NUL byte in the name or a type.
func checkText(stream string, events []eventstore.EventData) error {
	if !validText(stream) {
		return fmt.Errorf("append to %q: the stream name is not valid UTF-8 without NUL bytes, which PostgreSQL cannot store as given: %w", stream, eventstore.ErrInvalid)
	}
	for i, e := range events {
		if strings.IndexByte(e.Type, 0) >= 0 {
			return fmt.Errorf("append to %s: event %d of the batch has a NUL byte in its type, which PostgreSQL cannot store: %w", stream, i+1, eventstore.ErrInvalid)
		}
	}
	return nil
}

// batch is a batch of events as the insert binds it: a column each.
type batch struct {
	ids        [][16]byte
	types      []string
	data, meta [][]byte
}

func newBatch(events []eventstore.EventData) *batch {
	b := &batch{ids: make([][16]byte, len(events)), types: make([]string, len(events)),
		data: make([][]byte, len(events)), meta: make([][]byte, len(events))}
	for i, e := range events {
		b.ids[i], b.types[i], b.data[i], b.meta[i] = e.ID, e.Type, e.Data, e.Metadata
		if b.data[i] == nil {
			b.data[i] = noBytes
		}
		if b.meta[i] == nil {
			b.meta[i] = noBytes
		}
	}
	return b
}

// appendOnce is one attempt at an append, in a transaction of its own.
// It sets *unsure when it sent COMMIT and the answer was lost.
func (s *Store) appendOnce(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, b *batch, unsure *bool) (uint64, error) {
	op := "append to " + stream
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit

	// The lock, the stream's count and the place of the batch's first ID,
	// in one round trip; each statement sees what was committed before it
	// ran, so the last two see every append that held the lock before.
	q := &pgx.Batch{}
	q.Queue(lockSQL, lockStream, s.streamKey(stream))
	q.Queue(headSQL, stream)
	q.Queue(findSQL, b.ids[0])
	br := tx.SendBatch(ctx, q)
	var n int64
	var firstStream string
	var firstRev int64
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			n, err = 0, nil
		}
	}
	found := false
	if err == nil {
		err = br.QueryRow().Scan(&firstStream, &firstRev)
		found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
			return 0, fmt.Errorf("%w: %w", errLockWait, err)
		}
		return 0, err
	}

	if found {
		return s.repeat(ctx, tx, stream, expected, events, uint64(n), firstStream, firstRev)
	}
	if !expected.Holds(uint64(n)) {
		return 0, &eventstore.WrongRevisionError{Stream: stream, Expected: expected, Events: uint64(n)}
	}
	if uint64(len(events)) > math.MaxInt64-uint64(n) {
		return 0, fmt.Errorf("%s: the stream would exceed %d events", op, int64(math.MaxInt64))
	}
	total := n + int64(len(events))

	q = &pgx.Batch{}
	q.Queue(insertSQL, stream, n, b.ids, b.types, b.data, b.meta)
	q.Queue(countSQL, stream, total)
	q.Queue(notifySQL, s.streamTag(stream))
	err = tx.SendBatch(ctx, q).Close()
	if pgCode(err) == codeUniqueViolation {
		return 0, s.conflict(ctx, stream, expected, events, n, err)
	}
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		*unsure = *unsure || transient(err)
		return 0, err
	}
	return uint64(total - 1), nil
}

// repeat handles a batch whose first ID is already stored, at firstRev of
// firstStream: an exact repeat of an earlier append is a no-op, anything else
// is refused (see eventstore.CheckRepeat).
func (s *Store) repeat(ctx context.Context, tx pgx.Tx, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, n uint64, firstStream string, firstRev int64) (uint64, error) {
	found := eventstore.Stored{Stream: firstStream, Revision: uint64(firstRev)}
	if firstStream == stream {
		rows, err := tx.Query(ctx, runSQL, stream, firstRev, len(events))
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		var id [16]byte
		for rows.Next() {
			if err := rows.Scan(&id); err != nil {
				return 0, err
			}
			if id != events[found.Run].ID {
				break
			}
			found.Run++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	rev, err := eventstore.CheckRepeat(stream, expected, events, n, found)
	if err == nil {
		repeats.Add(1)
	}
	return rev, err
}

// repeats counts the appends found to be exact repeats, which tests read to
// tell a lost answer to a COMMIT from a lost COMMIT.
var repeats atomic.Int64

// conflict explains an insert that broke a unique key, err, after the
// stream held n events and the batch's first ID was not stored: some later
// ID of the batch is stored (in another stream, or in this one before n),
// or a row already holds one of the revisions from n on, which only a
// writer that bypassed the stream's lock, or an edit by hand, leaves.
func (s *Store) conflict(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, n int64, err error) error {
	op := "append to " + stream
	var pe *pgconn.PgError
	errors.As(err, &pe)
	if pe.ConstraintName == "treaty_events_stream_revision" {
		var now int64
		if err := s.pool.QueryRow(ctx, headSQL, stream).Scan(&now); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if now != n {
			return &eventstore.WrongRevisionError{Stream: stream, Expected: expected, Events: uint64(now)}
		}
		return fmt.Errorf("%s: %s: a row holds revision %d or later though the stream counts %d events: the table was edited by hand (%v): %w",
			op, s.uri, n, n, s.scrub(err), eventstore.ErrCorrupt)
	}
	ids := make([][16]byte, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	rows, err := s.pool.Query(ctx, whereSQL, ids)
	if err != nil {
		return err
	}
	where := map[[16]byte]eventstore.Stored{}
	var id [16]byte
	var st eventstore.Stored
	var rev int64
	_, err = pgx.ForEachRow(rows, []any{&id, &st.Stream, &rev}, func() error {
		st.Revision = uint64(rev)
		where[id] = st
		return nil
	})
	if err != nil {
		return err
	}
	for i, e := range events {
		if st, ok := where[e.ID]; ok {
			st.Index = i
			// The batch's first event was new when the lock was taken,
			// so this is no repeat: Run stays 0.
			_, err := eventstore.CheckRepeat(stream, expected, events, uint64(n), st)
			return err
		}
	}
	return fmt.Errorf("%s: %s refused an event ID as stored, yet none of the batch's is: were events deleted by hand? (%v)", op, s.uri, s.scrub(pe))
}
