package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// noBytes stands for nil data or metadata: binding nil would store NULL.
var noBytes = []byte{}

// Append writes events at the end of stream as eventstore.Store.Append
// specifies: in one BEGIN IMMEDIATE transaction that checks expected, the
// repeat of an earlier batch, and writes the events and the stream's count,
// all or nothing. It returns only once the transaction is durable.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (uint64, error) {
	op := "append to " + stream
	if err := s.checkOpen(op); err != nil {
		return 0, err
	}
	if err := eventstore.CheckBatch(stream, events); err != nil {
		return 0, err
	}
	if s.readOnly != nil {
		return 0, s.readOnly
	}
	stmts := []**sql.Stmt{&s.wHead, &s.wFind, &s.wIDs, &s.wUpsert}
	for _, k := range insertKinds(len(events)) {
		stmts = append(stmts, &s.wInsert[k])
	}
	if err := s.ready(ctx, stmts...); err != nil {
		return 0, s.ended(ctx, op, s.wrap(op, err))
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.ended(ctx, op, s.wrap(op, err))
	}
	defer tx.Rollback() // a no-op after Commit
	last, err := s.appendTx(ctx, tx, stream, expected, events)
	if err != nil {
		return 0, s.ended(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.ended(ctx, op, s.wrap(op, err))
	}
	s.appended.fire()
	return last, nil
}

// ended reports ctx's error when ctx ended the call: database/sql then
// reports the rolled-back transaction, not why it was rolled back. A refusal
// on the merits (revision, duplicate) stands.
func (s *Store) ended(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) || errors.Is(err, eventstore.ErrWrongExpectedRevision) || errors.Is(err, eventstore.ErrDuplicateEvent) {
		return err
	}
	return fmt.Errorf("%s: %s: %w (%v)", op, s.path, cerr, err)
}

func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (uint64, error) {
	op := "append to " + stream
	var n int64 // events in the stream
	err := tx.StmtContext(ctx, s.wHead).QueryRowContext(ctx, stream).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, s.wrap(op, err)
	}

	// A batch whose first ID is stored may be a repeat; one whose first ID is
	// new is checked by the inserts below, which write no duplicate ID.
	var firstStream string
	var firstRev int64
	err = tx.StmtContext(ctx, s.wFind).QueryRowContext(ctx, events[0].ID.String()).Scan(&firstStream, &firstRev)
	switch {
	case err == nil:
		return s.repeat(ctx, tx, stream, expected, events, uint64(n), firstStream, firstRev)
	case !errors.Is(err, sql.ErrNoRows):
		return 0, s.wrap(op, err)
	}

	if !expected.Holds(uint64(n)) {
		return 0, &eventstore.WrongRevisionError{Stream: stream, Expected: expected, Events: uint64(n)}
	}
	if uint64(len(events)) > math.MaxInt64-uint64(n) {
		return 0, fmt.Errorf("%s: the stream would exceed %d events", op, int64(math.MaxInt64))
	}

	created := time.Now().UnixNano()
	args := make([]any, 3, 3+4*insertRows[0])
	args[0], args[1] = stream, created
	done := 0
	for _, k := range insertKinds(len(events)) {
		rows := insertRows[k]
		chunk := events[done : done+rows]
		args = append(args[:2], n+int64(done))
		for _, e := range chunk {
			data, meta := e.Data, e.Metadata
			if data == nil {
				data = noBytes
			}
			if meta == nil {
				meta = noBytes
			}
			args = append(args, e.ID.String(), e.Type, data, meta)
		}
		res, err := tx.StmtContext(ctx, s.wInsert[k]).ExecContext(ctx, args...)
		if err != nil {
			return 0, s.wrap(op, err)
		}
		if written, err := res.RowsAffected(); err != nil {
			return 0, s.wrap(op, err)
		} else if written != int64(rows) {
			return 0, s.duplicate(ctx, tx, stream, expected, events, n, done, chunk)
		}
		done += rows
	}
	total := n + int64(len(events))
	if _, err := tx.StmtContext(ctx, s.wUpsert).ExecContext(ctx, stream, total); err != nil {
		return 0, s.wrap(op, err)
	}
	return uint64(total - 1), nil
}

// insertKinds returns, for each INSERT that writes a batch of n events in
// turn, its index in insertRows: as few statements as the sizes allow.
func insertKinds(n int) []int {
	var kinds []int
	for k, rows := range insertRows {
		for ; n >= rows; n -= rows {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// repeat handles a batch whose first ID is already stored, at firstRev of
// firstStream: an exact repeat of an earlier append is a no-op, anything else
// is refused (see eventstore.CheckRepeat).
func (s *Store) repeat(ctx context.Context, tx *sql.Tx, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, n uint64, firstStream string, firstRev int64) (uint64, error) {
	found := eventstore.Stored{Stream: firstStream, Revision: uint64(firstRev)}
	if firstStream == stream {
		run, err := s.run(ctx, tx, stream, firstRev, events)
		if err != nil {
			return 0, err
		}
		found.Run = run
	}
	return eventstore.CheckRepeat(stream, expected, events, n, found)
}

// run returns how many events of the batch, from its first on, stream holds
// at consecutive revisions from firstRev.
func (s *Store) run(ctx context.Context, tx *sql.Tx, stream string, firstRev int64, events []eventstore.EventData) (int, error) {
	op := "append to " + stream
	rows, err := tx.StmtContext(ctx, s.wIDs).QueryContext(ctx, stream, firstRev, len(events))
	if err != nil {
		return 0, s.wrap(op, err)
	}
	defer rows.Close()
	var i int
	var id sql.RawBytes
	for ; rows.Next(); i++ {
		if err := rows.Scan(&id); err != nil {
			return 0, s.wrap(op, err)
		}
		if got, err := uuid.ParseBytes(id); err != nil || got != events[i].ID {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return 0, s.wrap(op, err)
	}
	return i, nil
}

// duplicate explains why an INSERT of chunk, the events of the batch events
// from index done on, wrote fewer rows than it was given: one of its IDs is
// stored already, though the batch's first ID is not (CheckBatch has
// refused IDs twice in the batch). Events this transaction wrote are at
// revision n or later.
func (s *Store) duplicate(ctx context.Context, tx *sql.Tx, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, n int64, done int, chunk []eventstore.EventData) error {
	op := "append to " + stream
	for j, e := range chunk {
		i := done + j
		var where string
		var rev int64
		if err := tx.StmtContext(ctx, s.wFind).QueryRowContext(ctx, e.ID.String()).Scan(&where, &rev); err != nil {
			return s.wrap(op, err)
		}
		if where == stream && rev == n+int64(i) {
			continue // written by this statement
		}
		// Never a repeat: the batch's first event is new, so Run is 0.
		_, err := eventstore.CheckRepeat(stream, expected, events, uint64(n), eventstore.Stored{Index: i, Stream: where, Revision: uint64(rev)})
		return err
	}
	return fmt.Errorf("%s: SQLite wrote fewer events than given, yet every ID is in place: the file may be damaged; check it with sqlite3's PRAGMA integrity_check", op)
}
