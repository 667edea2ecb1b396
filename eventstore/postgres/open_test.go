package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// sql runs statements on the database at uri, as its owner would by hand.
func sql(t testing.TB, uri string, statements ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range statements {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// sqlValue returns the first column of the first row of query.
func sqlValue[T any](t testing.TB, uri, query string, args ...any) T {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v T
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// readErr reads stream to its end and returns the events and the error
// that ended it.
func readErr(s eventstore.Store, stream string) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for e, err := range s.Read(context.Background(), stream, 0) {
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// TestSchema: a store is made on first use with Create, only then, in the
// tables the migrations name, each file recorded.
func TestSchema(t *testing.T) {
	uri := pgtest.Database(t)
	ctx := context.Background()
	for _, cfg := range []eventstore.Config{{}, {ReadOnly: true}, {Create: true, ReadOnly: true}} {
		if _, err := Open(ctx, uri, cfg); !errors.Is(err, eventstore.ErrStoreNotFound) || !strings.Contains(err.Error(), "schema public") {
			t.Fatalf("Open(%+v) of an empty database: %v, want ErrStoreNotFound naming the schema", cfg, err)
		}
	}
	if n := sqlValue[int](t, uri, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`); n != 0 {
		t.Fatalf("refused opens made %d tables", n)
	}
	s := openStore(t, uri, eventstore.Config{Create: true})
	if s.Schema() != "public" {
		t.Fatalf("schema %q", s.Schema())
	}
	tables := sqlValue[[]string](t, uri, `SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'`)
	if want := []string{"treaty_cache", "treaty_events", "treaty_schema", "treaty_streams"}; !slices.Equal(tables, want) {
		t.Fatalf("tables %q, want %q", tables, want)
	}
	files := sqlValue[[]string](t, uri, `SELECT array_agg(name ORDER BY version) FROM treaty_schema`)
	ms, _ := migrations()
	if len(files) != SchemaVersion() || len(ms) != len(files) || files[0] != "0001_events.sql" {
		t.Fatalf("treaty_schema records %q; the binary embeds %d files", files, len(ms))
	}
	// Data and metadata are stored as given, not as JSON re-encoded.
	e := eventstore.EventData{ID: uuid.New(), Type: "T", Data: []byte(`{"b": 1,  "a":2}`), Metadata: []byte("{\"z\":\"\\u00e9\",\"a\":1}\n")}
	storetest.MustAppend(t, s, "bytes", eventstore.NoStream(), e)
	if got := sqlValue[[]byte](t, uri, `SELECT data || '|'::bytea || metadata FROM treaty_events WHERE id = $1`, e.ID); string(got) != string(e.Data)+"|"+string(e.Metadata) {
		t.Fatalf("stored %q", got)
	}
	// Opened again, writable or not, it is used as it is.
	openStore(t, uri, eventstore.Config{Create: true})
	openStore(t, uri, eventstore.Config{ReadOnly: true})
	if n := sqlValue[int](t, uri, `SELECT count(*) FROM treaty_schema`); n != SchemaVersion() {
		t.Fatalf("treaty_schema has %d rows after opening again", n)
	}
}

// TestNewerSchema: a store written by a newer treaty is refused, and left
// as it is.
func TestNewerSchema(t *testing.T) {
	uri := pgtest.Database(t)
	s := openStore(t, uri, eventstore.Config{Create: true})
	storetest.MustAppend(t, s, "kept", eventstore.NoStream(), storetest.Events("E", 1)...)
	sql(t, uri, `INSERT INTO treaty_schema (version, name) VALUES (99, '0099_future.sql')`)
	for _, cfg := range []eventstore.Config{{}, {Create: true}, {ReadOnly: true}} {
		_, err := Open(context.Background(), uri, cfg)
		if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "upgrade treaty") {
			t.Fatalf("Open(%+v): %v, want ErrNewerSchema", cfg, err)
		}
	}
	if n := sqlValue[int](t, uri, `SELECT count(*) FROM treaty_events`); n != 1 {
		t.Fatalf("%d events after the refusals", n)
	}
}

// TestOlderSchema: a store of an older schema is brought up to date when
// opened writable, and refused read-only.
func TestOlderSchema(t *testing.T) {
	uri := pgtest.Database(t)
	s := openStore(t, uri, eventstore.Config{Create: true})
	storetest.MustAppend(t, s, "kept", eventstore.NoStream(), storetest.Events("E", 2)...)
	s.Close()
	sql(t, uri, `DROP TABLE treaty_cache`, `DELETE FROM treaty_schema WHERE version = 2`)
	if _, err := Open(context.Background(), uri, eventstore.Config{ReadOnly: true}); !errors.Is(err, eventstore.ErrReadOnly) || !strings.Contains(err.Error(), "needs upgrading") {
		t.Fatalf("read-only Open of an older schema: %v", err)
	}
	s = openStore(t, uri, eventstore.Config{})
	if err := s.CachePut(context.Background(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if evs, err := readErr(s, "kept"); err != nil || len(evs) != 2 {
		t.Fatalf("after the upgrade: %d events, %v", len(evs), err)
	}
}

// TestForeignTable: a schema that holds a table of treaty's names that
// treaty did not make is refused and left unchanged; another schema of the
// same database serves.
func TestForeignTable(t *testing.T) {
	uri := pgtest.Database(t)
	sql(t, uri, `CREATE TABLE treaty_events (note text)`, `INSERT INTO treaty_events VALUES ('mine')`)
	_, err := Open(context.Background(), uri, eventstore.Config{Create: true})
	if err == nil || !strings.Contains(err.Error(), "has a table treaty_events but no treaty_schema") || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Open over a foreign treaty_events: %v", err)
	}
	if got := sqlValue[string](t, uri, `SELECT note FROM treaty_events`); got != "mine" {
		t.Fatalf("the foreign table holds %q", got)
	}
	s := openStore(t, pgtest.With(uri, "search_path", "treaty"), eventstore.Config{Create: true})
	storetest.MustAppend(t, s, "x", eventstore.NoStream(), storetest.Events("E", 1)...)
	if s.Schema() != "treaty" {
		t.Fatalf("schema %q", s.Schema())
	}
}

// TestConcurrentCreate: processes that make the same new store at once
// make it once, and all use it.
func TestConcurrentCreate(t *testing.T) {
	uri := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), uri, eventstore.Config{Create: true, Timeout: suiteTimeout})
			if err == nil {
				_, err = s.Append(context.Background(), fmt.Sprint("s", i), eventstore.NoStream(), storetest.Events("E", 1)...)
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := sqlValue[int](t, uri, `SELECT count(*) FROM treaty_schema`); n != SchemaVersion() {
		t.Fatalf("treaty_schema has %d rows", n)
	}
}

// TestEncoding: a database whose encoding is not UTF-8 is refused, saying
// why.
func TestEncoding(t *testing.T) {
	uri := pgtest.Database(t)
	u, _ := url.Parse(uri)
	latin := strings.TrimPrefix(u.Path, "/") + "_latin1"
	sql(t, uri, `CREATE DATABASE `+latin+` TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`)
	t.Cleanup(func() { sql(t, uri, `DROP DATABASE IF EXISTS `+latin+` WITH (FORCE)`) })
	u.Path = "/" + latin
	_, err := Open(context.Background(), u.String(), eventstore.Config{Create: true, Timeout: suiteTimeout})
	if err == nil || !strings.Contains(err.Error(), "encoding is LATIN1") || !strings.Contains(err.Error(), "ENCODING 'UTF8'") {
		t.Fatalf("Open of a LATIN1 database: %v", err)
	}
}

// TestNoDatabase: a database that does not exist is named as such.
func TestNoDatabase(t *testing.T) {
	u, _ := url.Parse(pgtest.ServerURI(t))
	u.Path = "/treaty_no_such_database"
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	_, err := Open(context.Background(), u.String(), eventstore.Config{Create: true, Timeout: suiteTimeout})
	if err == nil || !strings.Contains(err.Error(), "database does not exist") || strings.Contains(err.Error(), "hunter2") ||
		!strings.Contains(err.Error(), eventstore.Redact(u.String())) {
		t.Fatalf("Open of a missing database: %v", err)
	}
}

// TestUnknownSetting: a setting neither libpq nor the server knows is
// refused, named.
func TestUnknownSetting(t *testing.T) {
	uri := pgtest.With(pgtest.Database(t), "sslmdoe", "disable")
	_, err := Open(context.Background(), uri, eventstore.Config{Create: true, Timeout: suiteTimeout})
	if err == nil || !strings.Contains(err.Error(), "does not know a setting") || !strings.Contains(err.Error(), "sslmdoe") {
		t.Fatalf("Open with a misspelt setting: %v", err)
	}
}

// TestReadOnly: a store opened read-only, and one whose user may only read,
// answer every read and refuse every write with ErrReadOnly.
func TestReadOnly(t *testing.T) {
	uri := pgtest.Database(t)
	ctx := context.Background()
	w := openStore(t, uri, eventstore.Config{Create: true})
	es := storetest.Events("E", 3)
	storetest.MustAppend(t, w, "ro", eventstore.NoStream(), es...)
	if err := w.CachePut(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	role := "reader_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	sql(t, uri, `CREATE ROLE `+role+` LOGIN`, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO `+role)
	t.Cleanup(func() { sql(t, uri, `DROP OWNED BY `+role, `DROP ROLE `+role) })
	u, _ := url.Parse(uri)
	u.User = url.User(role)
	for name, s := range map[string]*Store{
		"opened read-only": openStore(t, uri, eventstore.Config{ReadOnly: true}),
		"user may read":    openStore(t, u.String(), eventstore.Config{}),
	} {
		if evs, err := readErr(s, "ro"); err != nil || len(evs) != 3 {
			t.Fatalf("%s: read %d events, %v", name, len(evs), err)
		}
		if v, err := s.CacheGet(ctx, "k"); err != nil || string(v) != "v" {
			t.Fatalf("%s: CacheGet = %q, %v", name, v, err)
		}
		if _, err := s.Append(ctx, "ro", eventstore.Exact(2), storetest.Events("E", 1)...); !errors.Is(err, eventstore.ErrReadOnly) {
			t.Fatalf("%s: Append: %v, want ErrReadOnly", name, err)
		}
		if err := s.CachePut(ctx, "k", []byte("w")); !errors.Is(err, eventstore.ErrReadOnly) {
			t.Fatalf("%s: CachePut: %v, want ErrReadOnly", name, err)
		}
		if err := s.CacheDelete(ctx, "k"); !errors.Is(err, eventstore.ErrReadOnly) {
			t.Fatalf("%s: CacheDelete: %v, want ErrReadOnly", name, err)
		}
	}
	if evs, _ := readErr(w, "ro"); len(evs) != 3 {
		t.Fatalf("%d events after refused appends", len(evs))
	}
}

// TestPrivileges: a user with the privileges the package documents, and
// not CREATE, uses a store someone else made.
func TestPrivileges(t *testing.T) {
	uri := pgtest.With(pgtest.Database(t), "search_path", "negotiations")
	openStore(t, uri, eventstore.Config{Create: true}).Close()
	role := "drafter_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	sql(t, uri, `CREATE ROLE `+role+` LOGIN`,
		`GRANT USAGE ON SCHEMA negotiations TO `+role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA negotiations TO `+role)
	t.Cleanup(func() { sql(t, uri, `DROP OWNED BY `+role, `DROP ROLE `+role) })
	u, _ := url.Parse(uri)
	u.User = url.User(role)
	s := openStore(t, u.String(), eventstore.Config{Create: true})
	ctx := context.Background()
	storetest.MustAppend(t, s, "p", eventstore.NoStream(), storetest.Events("E", 2)...)
	storetest.MustAppend(t, s, "p", eventstore.Exact(1), storetest.Events("E", 2)...)
	if err := s.CachePut(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.CacheDelete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if evs, err := readErr(s, "p"); err != nil || len(evs) != 4 {
		t.Fatalf("read %d events, %v", len(evs), err)
	}
	// Without CREATE, a new store cannot be made, and the error says so.
	other := pgtest.With(u.String(), "search_path", "public")
	sql(t, uri, `REVOKE CREATE ON SCHEMA public FROM PUBLIC`)
	if _, err := Open(ctx, other, eventstore.Config{Create: true, Timeout: suiteTimeout}); err == nil || !strings.Contains(err.Error(), "grant it CREATE on the schema") {
		t.Fatalf("Open by a user without CREATE: %v", err)
	}
}

// TestText: names and types PostgreSQL's text cannot hold as given are
// refused with ErrInvalid, and a prefix such a name would start lists
// nothing.
func TestText(t *testing.T) {
	s := openStore(t, pgtest.Database(t), eventstore.Config{Create: true})
	ctx := context.Background()
	for _, stream := range []string{"bad\xff", "nul\x00"} {
		if _, err := s.Append(ctx, stream, eventstore.Any(), storetest.Events("E", 1)...); !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("Append to %q: %v, want ErrInvalid", stream, err)
		}
		if infos, err := s.Streams(ctx, stream); err != nil || len(infos) != 0 {
			t.Errorf("Streams(%q) = %v, %v", stream, infos, err)
		}
		if v, err := s.CacheGet(ctx, stream); err != nil || v != nil {
			t.Errorf("CacheGet(%q) = %q, %v", stream, v, err)
		}
		if err := s.CachePut(ctx, stream, []byte("v")); err == nil {
			t.Errorf("CachePut(%q) stored it", stream)
		}
	}
	e := storetest.Events("E", 2)
	e[1].Type = "T\x00"
	if _, err := s.Append(ctx, "t", eventstore.Any(), e...); !errors.Is(err, eventstore.ErrInvalid) || !strings.Contains(err.Error(), "event 2 of the batch") {
		t.Errorf("Append of a type with NUL: %v", err)
	}
}

// TestCorrupt: rows deleted or added by hand, which leave a gap or a
// stream longer than its count, are reported as ErrCorrupt.
func TestCorrupt(t *testing.T) {
	uri := pgtest.Database(t)
	s := openStore(t, uri, eventstore.Config{Create: true})
	for _, stream := range []string{"middle", "tail", "extra"} {
		storetest.MustAppend(t, s, stream, eventstore.NoStream(), storetest.Events("E", 6)...)
	}
	sql(t, uri, `DELETE FROM treaty_events WHERE stream = 'middle' AND revision = 3`,
		`DELETE FROM treaty_events WHERE stream = 'tail' AND revision >= 4`,
		`INSERT INTO treaty_events (stream, revision, id, type, data, metadata, created) VALUES ('extra', 6, gen_random_uuid(), 'E', '', '', now())`)
	for stream, read := range map[string]int{"middle": 3, "tail": 4} {
		evs, err := readErr(s, stream)
		if len(evs) != read || !errors.Is(err, eventstore.ErrCorrupt) {
			t.Errorf("Read(%s): %d events, then %v; want %d and ErrCorrupt", stream, len(evs), err, read)
		}
	}
	if _, err := s.Append(context.Background(), "extra", eventstore.Exact(5), storetest.Events("E", 1)...); !errors.Is(err, eventstore.ErrCorrupt) {
		t.Errorf("Append over a row beyond the count: %v, want ErrCorrupt", err)
	}
}
