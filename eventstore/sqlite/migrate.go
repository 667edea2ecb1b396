package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/internal/migration"
)

// applicationID marks a file as a treaty store (PRAGMA application_id, 'TRTY'
// in ASCII). It is set by migrations/0001_events.sql.
const applicationID = 0x54525459

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded schema files in order: NNNN_name.sql,
// numbered 1, 2, 3… without gaps; file N brings user_version N-1 to N.
var migrations = migration.Embedded(migrationFiles, "migrations")

// SchemaVersion is the schema version (PRAGMA user_version) this code writes
// and reads; files with a higher one are refused with ErrNewerSchema.
func SchemaVersion() int { return migration.Version(migrations) }

// schemaState is what a file says about its schema.
type schemaState struct {
	appID   int64
	version int
	tables  []string // user tables and views, sorted
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// inspectSnapshot inspects db in one read transaction: read statement by
// statement, a schema another process creates meanwhile could be seen half
// made (its tables, not yet its application_id) and refused as foreign.
func inspectSnapshot(ctx context.Context, db *sql.DB) (schemaState, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // BEGIN DEFERRED: takes no write lock
	if err != nil {
		return schemaState{}, err
	}
	defer tx.Rollback()
	return inspect(ctx, tx)
}

// inspect reads the schema state through q, which must be a transaction for
// the state to be consistent.
func inspect(ctx context.Context, q querier) (st schemaState, err error) {
	if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&st.appID); err != nil {
		return st, err
	}
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&st.version); err != nil {
		return st, err
	}
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_master
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return st, err
		}
		st.tables = append(st.tables, name)
	}
	return st, rows.Err()
}

// verdict decides what to do with a file in state st: nothing (current), or
// apply migrations from st.version on (fresh tells the file has no schema
// at all). It refuses every file that is not a treaty store of a version this
// code knows.
func (s *Store) verdict(st schemaState, latest int) (migrate, fresh bool, err error) {
	switch {
	case st.appID == applicationID && st.version < 0:
		return false, false, fmt.Errorf("%s has the invalid schema version %d: the file was edited by hand; restore it from a copy: %w", s.path, st.version, ErrNotStore)
	case st.appID == applicationID && st.version > latest:
		return false, false, fmt.Errorf("%s was written by a newer treaty (schema version %d; this treaty knows up to %d): upgrade treaty to use it: %w", s.path, st.version, latest, ErrNewerSchema)
	case st.appID == applicationID:
		return st.version < latest, false, nil
	case st.appID != 0:
		return false, false, fmt.Errorf("%s is not a treaty store (an SQLite database of another application, application_id %#x): it was left unchanged; pick another file: %w", s.path, st.appID, ErrNotStore)
	case st.version != 0 || len(st.tables) > 0:
		return false, false, fmt.Errorf("%s is not a treaty store (an SQLite database with other tables: %s): it was left unchanged; pick another file: %w", s.path, strings.Join(st.tables, ", "), ErrNotStore)
	}
	return true, true, nil
}

// checkSchema brings the file's schema to the current version, or refuses it.
func (s *Store) checkSchema(ctx context.Context, cfg eventstore.Config) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("open store %s: this treaty binary is broken: %w", s.path, err)
	}
	// Look first without the write lock: the usual file is current, and a
	// read-only one can be read only.
	db := s.readers
	if s.writer != nil {
		db = s.writer
	}
	st, err := inspectSnapshot(ctx, db)
	if err != nil {
		return s.openErr(err)
	}
	migrate, fresh, err := s.verdict(st, len(ms))
	if err != nil {
		return err
	}
	if fresh && !cfg.Create {
		return fmt.Errorf("no treaty store in %s (an empty SQLite database): ask to create a new store: %w", s.path, eventstore.ErrStoreNotFound)
	}
	if s.writer != nil {
		if err := s.useWAL(ctx); err != nil {
			return err
		}
	}
	if !migrate {
		return nil
	}
	if fresh && s.writer == nil {
		return fmt.Errorf("no treaty store in %s (an empty SQLite database), and one cannot be created read-only: %w", s.path, eventstore.ErrStoreNotFound)
	}
	if s.writer == nil {
		return fmt.Errorf("%s has schema version %d and needs upgrading to %d, which cannot be done read-only: open it once writable: %w", s.path, st.version, len(ms), eventstore.ErrReadOnly)
	}
	return s.migrate(ctx, ms)
}

// migrate applies the missing schema files in one transaction, deciding again
// under the write lock: another process may have done it meanwhile.
func (s *Store) migrate(ctx context.Context, ms []migration.File) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.openErr(err)
	}
	defer tx.Rollback()
	st, err := inspect(ctx, tx)
	if err != nil {
		return s.openErr(err)
	}
	migrate, _, err := s.verdict(st, len(ms))
	if err != nil || !migrate {
		return err
	}
	for _, m := range ms[st.version:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("open store %s: applying schema %s: %w", s.path, m.Name, s.wrap("migrate", err))
		}
		// PRAGMA takes no parameters; m.Version is an int.
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.Version)); err != nil {
			return s.openErr(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.openErr(err)
	}
	return nil
}
