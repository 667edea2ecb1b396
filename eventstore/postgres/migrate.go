package postgres

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/internal/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded schema files in order: NNNN_name.sql,
// numbered 1, 2, 3… without gaps; file N brings a store from version N-1 to
// N.
var migrations = migration.Embedded(migrationFiles, "migrations")

// SchemaVersion is the schema version this code writes and reads; stores
// with a higher one are refused with ErrNewerSchema.
func SchemaVersion() int { return migration.Version(migrations) }

// minServer is the oldest server this code is written for (identity
// columns came in 10), as server_version_num.
const minServer = 100000

// schemaState is what a database says about the store in it.
type schemaState struct {
	server   int    // server_version_num
	encoding string // server_encoding
	schema   string // current_schema(); "" when search_path names none that exists
	marked   bool   // treaty_schema exists
	foreign  string // a table of treaty's names that exists without treaty_schema
	version  int    // the highest applied, when marked
}

// querier is what inspect reads through: the pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inspect reads the state of the schema the session's search_path selects.
func inspect(ctx context.Context, q querier) (st schemaState, err error) {
	var schema *string
	err = q.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_encoding'), current_schema(),
		to_regclass('treaty_schema') IS NOT NULL,
		coalesce((SELECT t FROM unnest(ARRAY['treaty_events', 'treaty_streams', 'treaty_cache']) AS t WHERE to_regclass(t) IS NOT NULL LIMIT 1), '')`).
		Scan(&st.server, &st.encoding, &schema, &st.marked, &st.foreign)
	if err != nil {
		return st, err
	}
	if schema != nil {
		st.schema = *schema
	}
	if st.marked {
		err = q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM treaty_schema`).Scan(&st.version)
	}
	return st, err
}

// verdict decides what to do with a database in state st: nothing
// (current), or apply migrations from st.version on (fresh tells it has no
// store at all). It refuses every database it cannot keep a store in.
func (s *Store) verdict(st schemaState, latest int) (migrate, fresh bool, err error) {
	switch {
	case st.server < minServer:
		return false, false, fmt.Errorf("open store %s: the server is PostgreSQL %d.%d, and treaty needs 10 or later", s.uri, st.server/10000, st.server%10000)
	case st.encoding != "UTF8":
		return false, false, fmt.Errorf("open store %s: the database's encoding is %s, and treaty keeps its names and types as UTF-8: "+
			"use a database created with ENCODING 'UTF8'", s.uri, st.encoding)
	case st.marked && st.version > latest:
		return false, false, fmt.Errorf("open store %s: the store in schema %s was written by a newer treaty (schema version %d; this treaty knows up to %d): "+
			"upgrade treaty to use it: %w", s.uri, st.schema, st.version, latest, ErrNewerSchema)
	case st.marked:
		return st.version < latest, st.version == 0, nil
	case st.foreign != "":
		return false, false, fmt.Errorf("open store %s: schema %s has a table %s but no treaty_schema, so treaty did not make it: "+
			"it was left unchanged; keep the store in another schema (search_path=NAME in the URI)", s.uri, st.schema, st.foreign)
	}
	return true, true, nil
}

// prepare checks the database's schema and, with cfg.Create, makes the
// store or brings it up to date, trying again while the server cannot be
// reached, all within the timeout.
func (s *Store) prepare(ctx context.Context, cfg eventstore.Config) error {
	const op = "open store"
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("%s %s: this treaty binary is broken: %w", op, s.uri, err)
	}
	return s.call(ctx, op, func(ctx context.Context) error {
		st, err := inspect(ctx, s.pool)
		if err != nil {
			return err
		}
		migrate, fresh, err := s.verdict(st, len(ms))
		switch {
		case err != nil:
			return err
		case fresh && (!cfg.Create || cfg.ReadOnly):
			where := "schema " + st.schema
			if st.schema == "" {
				where = "any schema of its search_path (none of them exists)"
			}
			return fmt.Errorf("no treaty store in %s, in %s: ask to create a new store: %w", s.uri, where, eventstore.ErrStoreNotFound)
		case migrate && cfg.ReadOnly:
			return fmt.Errorf("open store %s: the store in schema %s has schema version %d and needs upgrading to %d, which cannot be done read-only: "+
				"open it once writable: %w", s.uri, st.schema, st.version, len(ms), eventstore.ErrReadOnly)
		case migrate:
			if st, err = s.migrate(ctx, ms); err != nil {
				return err
			}
		}
		s.schema = st.schema
		return nil
	})
}

// migrate applies the missing schema files in one transaction, under an
// advisory lock, deciding again once it holds it: another process may have
// done it meanwhile. When search_path names a schema that does not exist
// yet, it is made first. It returns the state after.
func (s *Store) migrate(ctx context.Context, ms []migration.File) (schemaState, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return schemaState{}, err
	}
	defer conn.Release()
	// One lock for every store of the database (the schema may not exist
	// yet, to name it), held by the session: a transaction begun after it
	// is granted sees the tables made by whoever held it before, where one
	// that took it could still see its own catalog cache.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, 0)`, lockMigrate); err != nil {
		return schemaState{}, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, 0)`, lockMigrate); err != nil {
			conn.Conn().Close(ctx) // the session's end releases it
		}
	}()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return schemaState{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	st, err := inspect(ctx, tx)
	if err != nil {
		return st, err
	}
	if st.schema == "" {
		name := firstSchema(tx.Conn().Config().RuntimeParams["search_path"])
		if name == "" {
			return st, fmt.Errorf("open store %s: the search_path names no schema that exists, and none to create: name one with search_path=NAME in the URI", s.uri)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return st, s.ddlErr(fmt.Sprintf("create schema %s", name), err)
		}
		if st, err = inspect(ctx, tx); err != nil {
			return st, err
		}
	}
	migrate, _, err := s.verdict(st, len(ms))
	if err != nil || !migrate {
		return st, err
	}
	for _, m := range ms[st.version:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return st, s.ddlErr(fmt.Sprintf("apply schema file %s in schema %s", m.Name, st.schema), err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO treaty_schema (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return st, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return st, err
	}
	st.marked, st.version = true, len(ms)
	return st, nil
}

// ddlErr explains a failure to make the store's schema.
func (s *Store) ddlErr(what string, err error) error {
	switch pgCode(err) {
	case codeInsufficientPriv:
		return fmt.Errorf("open store %s: cannot %s: the user may not create tables there (%v): grant it CREATE on the schema for the first use, "+
			"or have the schema's owner open the store once", s.uri, what, s.scrub(err))
	case codeDuplicateTable:
		return fmt.Errorf("open store %s: cannot %s: a table of that name exists already, which treaty did not make (%v): it was left unchanged; "+
			"keep the store in another schema (search_path=NAME in the URI)", s.uri, what, s.scrub(err))
	}
	if transient(err) {
		return err // tried again
	}
	return fmt.Errorf("open store %s: cannot %s: %w", s.uri, what, s.scrub(err))
}

// firstSchema returns the first schema a search_path setting names, other
// than "$user", unquoted; or "".
func firstSchema(path string) string {
	for _, name := range strings.Split(path, ",") {
		name = strings.TrimSpace(name)
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			name = strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)
		} else {
			name = strings.ToLower(name) // unquoted identifiers fold to lower case
		}
		if name != "" && name != "$user" {
			return name
		}
	}
	return ""
}
