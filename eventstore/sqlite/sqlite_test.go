package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// openTemp opens a new store in a fresh temporary directory, closed when t
// ends.
func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "treaty.db"), eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store { return openTemp(t) }, reopen, openReads)
}

// openReads counts the read connections a store of the suite has handed
// out and not taken back, and its idle ones left inside a read
// transaction: both none once every read and subscription has ended.
var openReads = storetest.OpenReads(func(s eventstore.Store) int {
	st := s.(*Store)
	st.rawMu.Lock()
	defer st.rawMu.Unlock()
	n := int(st.rawOut.Load())
	for _, c := range st.raw {
		if sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) == 0 {
			n++
		}
	}
	return n
})

// reopen opens a second store on the file of a store of the suite, as
// another process would.
var reopen = storetest.Reopen(func(t *testing.T, s eventstore.Store) eventstore.Store {
	s2, err := eventstore.Open(context.Background(), "sqlite:"+s.(*Store).Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
})

// TestConformanceRegistered runs the suite on stores opened the way the
// program opens them: by URI, through the registry.
func TestConformanceRegistered(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, err := eventstore.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "treaty.db"), eventstore.Create())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, reopen, openReads)
}

// mustAppendN appends n small events to stream with Any.
func mustAppendN(t *testing.T, s eventstore.Store, stream string, n int) []eventstore.EventData {
	t.Helper()
	es := make([]eventstore.EventData, n)
	for i := range es {
		es[i] = eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: fmt.Appendf(nil, `{"n":%d}`, i), Metadata: []byte(`{}`)}
	}
	if _, err := s.Append(context.Background(), stream, eventstore.Any(), es...); err != nil {
		t.Fatal(err)
	}
	return es
}

// storeFile makes a store called name in a fresh temporary directory, with n
// events in stream, closes it and returns its path.
func storeFile(t *testing.T, name, stream string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	s, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, s, stream, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// count reads stream to the end and returns how many events it holds.
func count(t *testing.T, s eventstore.Store, stream string) int {
	t.Helper()
	n := 0
	for _, err := range s.Read(context.Background(), stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// rawDB opens the file at path with the plain driver, as another tool would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestURIForms(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "a b#c?d%e.db") // URI-special characters in the name
	t.Chdir(dir)
	cases := []struct{ uri, want string }{
		{abs, abs},
		{"sqlite:" + abs, abs},
		{"sqlite://" + abs, abs},
		{"sqlite://localhost" + abs, abs},
		{"rel.db", filepath.Join(dir, "rel.db")},
		{"sqlite:rel.db", filepath.Join(dir, "rel.db")},
		{"SQLite:sub/../rel.db", filepath.Join(dir, "rel.db")},
	}
	for _, c := range cases {
		s, err := eventstore.Open(context.Background(), c.uri, eventstore.Create())
		if err != nil {
			t.Fatalf("Open(%q): %v", c.uri, err)
		}
		mustAppendN(t, s, "treaty-uri", 1)
		if got := s.(*Store).Path(); got != c.want {
			t.Errorf("Open(%q).Path() = %q, want %q", c.uri, got, c.want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Each form reached the same two files: the appends add up.
	for file, want := range map[string]int{abs: 4, filepath.Join(dir, "rel.db"): 3} {
		s, err := Open(context.Background(), file, eventstore.Config{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "treaty-uri"); n != want {
			t.Errorf("%s holds %d events, want %d", file, n, want)
		}
		s.Close()
	}
	for _, bad := range []string{"sqlite:", "sqlite://", "sqlite:///", "sqlite://server/share/x.db"} {
		if _, err := eventstore.Open(context.Background(), bad, eventstore.Create()); err == nil || !strings.Contains(err.Error(), "sqlite:") {
			t.Errorf("Open(%q) error = %v, want an error showing the URI forms", bad, err)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing.db")
	for _, cfg := range []eventstore.Config{{}, {ReadOnly: true}, {ReadOnly: true, Create: true}} {
		_, err := Open(context.Background(), path, cfg)
		if !errors.Is(err, eventstore.ErrStoreNotFound) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open(missing, %+v) error = %v, want ErrStoreNotFound naming the path", cfg, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed open left a file behind: %v", err)
	}
	nowhere := filepath.Join(dir, "no", "such", "dir", "x.db")
	_, err := Open(context.Background(), nowhere, eventstore.Config{Create: true})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "no", "such", "dir")) {
		t.Fatalf("Open in a missing directory: error = %v, want one naming the directory", err)
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []eventstore.Config{{}, {Create: true}, {ReadOnly: true}} {
		_, err := Open(context.Background(), dir, cfg)
		if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), dir+" is a directory") {
			t.Fatalf("Open(directory, %+v) error = %v, want ErrNotStore saying it is a directory", cfg, err)
		}
	}
}

func TestOpenNotSQLite(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"text.db":    []byte("Article 1. The Parties agree.\n"),
		"short.db":   []byte("SQL"),
		"json.db":    []byte(`{"not":"a database"}`),
		"corrupt.db": append([]byte("SQLite format 3\x00"), make([]byte, 4080)...),
	}
	for name, content := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []eventstore.Config{{}, {Create: true}, {ReadOnly: true}} {
			_, err := Open(context.Background(), path, cfg)
			if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), path+" is not a treaty store") {
				t.Fatalf("Open(%s, %+v) error = %v, want ErrNotStore naming the path", name, cfg, err)
			}
		}
		if got, _ := os.ReadFile(path); string(got) != string(content) {
			t.Fatalf("Open changed %s", name)
		}
		if _, err := os.Stat(path + "-wal"); err == nil {
			t.Fatalf("Open left %s-wal behind", name)
		}
	}
	path := filepath.Join(dir, "text.db")
	_, err := Open(context.Background(), path, eventstore.Config{})
	if want := path + " is not a treaty store (not an SQLite database)"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := storeFile(t, "future.db", "treaty-future", 2)
	db := rawDB(t, path)
	mustExec(t, db, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1))
	db.Close()
	for _, cfg := range []eventstore.Config{{}, {Create: true}, {ReadOnly: true}} {
		_, err := Open(context.Background(), path, cfg)
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("Open(%+v) error = %v, want ErrNewerSchema", cfg, err)
		}
		for _, want := range []string{path, "newer treaty", "upgrade treaty"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
		}
	}
	var v int
	if err := rawDB(t, path).QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion()+1 {
		t.Fatalf("user_version = %d (%v) after refusing the file, want it unchanged", v, err)
	}
}

// TestOpenForeignDatabase checks that SQLite databases of other applications
// are refused, named, and left as they were.
func TestOpenForeignDatabase(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, setup, want string
	}{
		{"tables.db", "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Examplia')", "other tables: customers"},
		{"events.db", "CREATE TABLE events (id TEXT)", "other tables: events"},
		{"view.db", "CREATE VIEW v AS SELECT 1", "other tables: v"},
		{"appid.db", "PRAGMA application_id = 1234", "another application, application_id 0x4d2"},
		{"version.db", "PRAGMA user_version = 3", "not a treaty store"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		db := rawDB(t, path)
		mustExec(t, db, c.setup)
		db.Close()
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []eventstore.Config{{}, {Create: true}, {ReadOnly: true}} {
			_, err := Open(context.Background(), path, cfg)
			if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open(%s, %+v) error = %v, want ErrNotStore naming the file and saying %q", c.name, cfg, err, c.want)
			}
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(before) != string(after) {
			t.Fatalf("Open changed %s", c.name)
		}
	}
}

// TestOpenEmptyFile: an empty file is an SQLite database without tables. It
// becomes a store only when asked to create one.
func TestOpenEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []eventstore.Config{{}, {ReadOnly: true}, {ReadOnly: true, Create: true}} {
		if _, err := Open(context.Background(), path, cfg); !errors.Is(err, eventstore.ErrStoreNotFound) {
			t.Fatalf("Open(empty, %+v) error = %v, want ErrStoreNotFound", cfg, err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("refused opens changed the empty file: %v, %v", fi, err)
	}
	s, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustAppendN(t, s, "treaty-empty", 2)
	if n := count(t, s, "treaty-empty"); n != 2 {
		t.Fatalf("read %d events, want 2", n)
	}
}

func TestSchema(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != SchemaVersion() || ms[0].Name != "0001_events.sql" {
		t.Fatalf("embedded migrations = %d starting with %s, SchemaVersion = %d", len(ms), ms[0].Name, SchemaVersion())
	}
	s := openTemp(t)
	db := rawDB(t, s.Path())
	var appID, version int64
	if err := db.QueryRow("PRAGMA application_id").Scan(&appID); err != nil || appID != applicationID {
		t.Fatalf("application_id = %#x (%v), want %#x", appID, err, applicationID)
	}
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != int64(SchemaVersion()) {
		t.Fatalf("user_version = %d (%v), want %d", version, err, SchemaVersion())
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
	}
	st, err := inspectSnapshot(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.tables, ",") != "cache,events,streams" {
		t.Fatalf("tables = %v, want cache, events and streams", st.tables)
	}
	// Opening again applies nothing and keeps the data.
	mustAppendN(t, s, "treaty-schema", 1)
	s2, err := Open(context.Background(), s.Path(), eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := count(t, s2, "treaty-schema"); n != 1 {
		t.Fatalf("reopened store holds %d events, want 1", n)
	}
}

// TestInspectable checks what `sqlite3 treaty.db 'select * from events'`
// shows: UUID text, JSON text that SQLite's JSON functions read, and the
// store's clock in unix nanoseconds.
func TestInspectable(t *testing.T) {
	s := openTemp(t)
	id := uuid.New()
	before := time.Now()
	_, err := s.Append(context.Background(), "treaty-1", eventstore.NoStream(), eventstore.EventData{
		ID: id, Type: "ClauseProposed",
		Data:     []byte(`{"text":"Статья 1 🕊️"}`),
		Metadata: []byte(`{"party":"Examplia"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		pos, rev, created       int64
		stream, gotID, typ      string
		typeofID, typeofData    string
		typeofMeta, text, party string
	)
	err = rawDB(t, s.Path()).QueryRow(`SELECT position, stream, revision, id, type, created,
		typeof(id), typeof(data), typeof(metadata), data ->> '$.text', metadata ->> '$.party' FROM events`).
		Scan(&pos, &stream, &rev, &gotID, &typ, &created, &typeofID, &typeofData, &typeofMeta, &text, &party)
	if err != nil {
		t.Fatal(err)
	}
	if stream != "treaty-1" || rev != 0 || gotID != id.String() || typ != "ClauseProposed" || pos < 1 {
		t.Fatalf("row = %d %s %d %s %s", pos, stream, rev, gotID, typ)
	}
	if typeofID != "text" || typeofData != "text" || typeofMeta != "text" {
		t.Fatalf("typeof(id, data, metadata) = %s, %s, %s, want text", typeofID, typeofData, typeofMeta)
	}
	if text != "Статья 1 🕊️" || party != "Examplia" {
		t.Fatalf("JSON read back %q and %q", text, party)
	}
	if c := time.Unix(0, created); c.Before(before.Add(-time.Second)) || c.After(time.Now().Add(time.Second)) {
		t.Fatalf("created = %v, not the store's clock now", c)
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	w, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustAppendN(t, w, "treaty-ro", 3)

	r, err := eventstore.Open(context.Background(), "sqlite:"+path, eventstore.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := count(t, r, "treaty-ro"); n != 3 {
		t.Fatalf("read %d events, want 3", n)
	}
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Any(), eventstore.Exact(2)} {
		_, err := r.Append(context.Background(), "treaty-ro", exp, eventstore.EventData{ID: uuid.New(), Type: "Late"})
		if !errors.Is(err, eventstore.ErrReadOnly) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Append to a read-only store: error = %v, want ErrReadOnly naming the file", err)
		}
	}
	// A read-only store sees what a writer appends later.
	mustAppendN(t, w, "treaty-ro", 2)
	if n := count(t, r, "treaty-ro"); n != 5 {
		t.Fatalf("read %d events after the writer appended, want 5", n)
	}
	infos, err := r.Streams(context.Background(), "treaty-")
	if err != nil || len(infos) != 1 || infos[0].Events != 5 {
		t.Fatalf("Streams = %v, %v", infos, err)
	}
}

func TestEmptyStreamName(t *testing.T) {
	s := openTemp(t)
	if _, err := s.Append(context.Background(), "", eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: "T"}); err == nil {
		t.Fatal("Append to an empty stream name succeeded")
	}
	if infos, err := s.Streams(context.Background(), ""); err != nil || len(infos) != 0 {
		t.Fatalf("Streams after a refused append = %v, %v", infos, err)
	}
}

// TestDuplicateInBatch: an ID twice in one batch is refused, and nothing of
// the batch lands.
func TestDuplicateInBatch(t *testing.T) {
	s := openTemp(t)
	e := eventstore.EventData{ID: uuid.New(), Type: "T", Data: []byte(`{}`)}
	other := eventstore.EventData{ID: uuid.New(), Type: "T", Data: []byte(`{}`)}
	_, err := s.Append(context.Background(), "treaty-dup", eventstore.NoStream(), other, e, e)
	if !errors.Is(err, eventstore.ErrDuplicateEvent) || !strings.Contains(err.Error(), "twice in the batch") {
		t.Fatalf("error = %v, want ErrDuplicateEvent saying the ID is twice in the batch", err)
	}
	if infos, err := s.Streams(context.Background(), "treaty-dup"); err != nil || len(infos) != 0 {
		t.Fatalf("Streams after a refused batch = %v, %v", infos, err)
	}
	if _, err := s.Append(context.Background(), "treaty-dup", eventstore.NoStream(), other, e); err != nil {
		t.Fatalf("the refused batch's events could not be appended: %v", err)
	}

	// Long batches are written many events per statement: a duplicate in
	// the middle of one is found and named all the same.
	long := make([]eventstore.EventData, 70)
	for i := range long {
		long[i] = eventstore.EventData{ID: uuid.New(), Type: "T", Data: []byte(`{}`)}
	}
	twice := slices.Clone(long)
	twice[66] = twice[1]
	_, err = s.Append(context.Background(), "treaty-long", eventstore.NoStream(), twice...)
	if !errors.Is(err, eventstore.ErrDuplicateEvent) || !strings.Contains(err.Error(), "twice in the batch (events 2 and 67)") {
		t.Fatalf("error = %v, want ErrDuplicateEvent naming events 2 and 67", err)
	}
	stored := slices.Clone(long)
	stored[30] = other
	_, err = s.Append(context.Background(), "treaty-long", eventstore.NoStream(), stored...)
	if !errors.Is(err, eventstore.ErrDuplicateEvent) || !strings.Contains(err.Error(), "(event 31 of the batch) is already stored in stream treaty-dup at revision 0") {
		t.Fatalf("error = %v, want ErrDuplicateEvent naming event 31 and where it is stored", err)
	}
	if infos, err := s.Streams(context.Background(), "treaty-long"); err != nil || len(infos) != 0 {
		t.Fatalf("Streams after refused batches = %v, %v", infos, err)
	}
	if rev, err := s.Append(context.Background(), "treaty-long", eventstore.NoStream(), long...); err != nil || rev != 69 {
		t.Fatalf("Append of 70 events = %d, %v", rev, err)
	}
	if n := count(t, s, "treaty-long"); n != 70 {
		t.Fatalf("read %d events, want 70", n)
	}
}

// TestReadSnapshot: an iteration sees the stream as it was when it started,
// however much is appended meanwhile.
func TestReadSnapshot(t *testing.T) {
	s := openTemp(t)
	mustAppendN(t, s, "treaty-snap", 5)
	n := 0
	for e, err := range s.Read(context.Background(), "treaty-snap", 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Revision != uint64(n) {
			t.Fatalf("revision %d at %d", e.Revision, n)
		}
		n++
		if n == 2 {
			mustAppendN(t, s, "treaty-snap", 3)
		}
	}
	if n != 5 {
		t.Fatalf("iteration saw %d events, want the 5 of its snapshot", n)
	}
	if n := count(t, s, "treaty-snap"); n != 8 {
		t.Fatalf("a new read sees %d events, want 8", n)
	}
}

// TestReadReleases: however an iteration ends, its connection returns to the
// pool and its read transaction ends, so that a checkpoint can reset the WAL.
func TestReadReleases(t *testing.T) {
	s := openTemp(t)
	mustAppendN(t, s, "treaty-rel", 10)
	ctx, cancel := context.WithCancel(context.Background())
	ends := map[string]func(){
		"early break": func() {
			for range s.Read(context.Background(), "treaty-rel", 0) {
				break
			}
		},
		"error": func() {
			for range s.Read(context.Background(), "treaty-missing", 0) {
			}
		},
		"beyond the end": func() {
			for range s.Read(context.Background(), "treaty-rel", 99) {
			}
		},
		"cancelled": func() {
			for _, err := range s.Read(ctx, "treaty-rel", 0) {
				if err == nil {
					cancel()
				}
			}
		},
		"to the end": func() { count(t, s, "treaty-rel") },
	}
	for name, end := range ends {
		end()
		s.rawMu.Lock()
		idle := len(s.raw)
		s.rawMu.Unlock()
		if idle != 1 {
			t.Fatalf("%s: %d idle read connections, want the one used", name, idle)
		}
		var busy, logged, moved int
		if err := s.writer.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil || busy != 0 {
			t.Fatalf("%s: checkpoint busy=%d (%v): a read transaction is still open", name, busy, err)
		}
	}
}

// TestReadFlatMemory streams a stream much larger than the memory the read
// may hold: the heap must not grow with the stream.
func TestReadFlatMemory(t *testing.T) {
	s := openTemp(t)
	const total, size = 20_000, 2000 // 40 MB of data
	pad := strings.Repeat("x", size)
	for i := 0; i < total; i += 1000 {
		es := make([]eventstore.EventData, 1000)
		for j := range es {
			es[j] = eventstore.EventData{ID: uuid.New(), Type: "Big", Data: fmt.Appendf(nil, `{"pad":%q}`, pad), Metadata: []byte(`{}`)}
		}
		if _, err := s.Append(context.Background(), "treaty-big", eventstore.Any(), es...); err != nil {
			t.Fatal(err)
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	n := 0
	for _, err := range s.Read(context.Background(), "treaty-big", 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n%2000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if n != total {
		t.Fatalf("read %d events, want %d", n, total)
	}
	if grown := int64(peak) - int64(base); grown > 4<<20 {
		t.Fatalf("heap grew by %d bytes while streaming %d bytes: the read holds the stream in memory", grown, total*size)
	}
}

// TestLockTimeout: an append waits for another writer's lock for the
// configured time, then fails saying so; a done context ends the wait early.
func TestLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locked.db")
	s, err := Open(context.Background(), path, eventstore.Config{Create: true, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustAppendN(t, s, "treaty-lock", 1)

	// Another connection, as another process would, holds the write lock.
	other := rawDB(t, path)
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	e := eventstore.EventData{ID: uuid.New(), Type: "Waiting", Data: []byte(`{}`)}
	start := time.Now()
	_, err = s.Append(context.Background(), "treaty-lock", eventstore.Any(), e)
	waited := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "locked by another writer") || !isCode(err, codeBusy) {
		t.Fatalf("Append while locked: error = %v, want the lock explained", err)
	}
	if waited < 250*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("Append gave up after %v, want about the 300ms timeout", waited)
	}
	// Reads are not blocked by the writer.
	if n := count(t, s, "treaty-lock"); n != 1 {
		t.Fatalf("read %d events while locked, want 1", n)
	}

	long, err := Open(context.Background(), path, eventstore.Config{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = long.Append(ctx, "treaty-lock", eventstore.Any(), e)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("Append with a 200ms context against a 1m timeout: error = %v after %v, want DeadlineExceeded soon", err, time.Since(start))
	}

	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), "treaty-lock", eventstore.Exact(0), e); err != nil {
		t.Fatalf("Append once the lock is released: %v", err)
	}
}

// TestCloseDuringRead: a Read iteration still running when the store closes
// ends with ErrClosed.
func TestCloseDuringRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.db")
	s, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, s, "treaty-close", 10)
	var last error
	n := 0
	for _, err := range s.Read(context.Background(), "treaty-close", 0) {
		if err != nil {
			last = err
			continue
		}
		if n++; n == 3 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !errors.Is(last, eventstore.ErrClosed) || n != 3 {
		t.Fatalf("iteration ended after %d events with %v, want ErrClosed after 3", n, last)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestReadCancelAfterStop: a context ended after the caller stopped, or after
// the last event, adds nothing to the iteration.
func TestReadCancelAfterStop(t *testing.T) {
	s := openTemp(t)
	mustAppendN(t, s, "treaty-stop", 3)
	for _, stopAt := range []int{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		for _, err := range s.Read(ctx, "treaty-stop", 0) {
			if err != nil {
				t.Fatalf("stopping at %d: yielded %v", stopAt, err)
			}
			if n++; n == stopAt {
				cancel()
				if stopAt < 3 {
					break
				}
			}
		}
		cancel()
		if n != stopAt {
			t.Fatalf("read %d events, want %d", n, stopAt)
		}
	}
}

// TestCacheWritesLeaveAppendsSynced: the cache is written without waiting
// for the disk, and the writer's connection is back at synchronous=FULL for
// the appends after, whether the cache write worked or not.
func TestCacheWritesLeaveAppendsSynced(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	synchronous := func() int {
		t.Helper()
		var v int
		if err := s.writer.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if err := s.CachePut(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.CacheDelete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.CachePut(cancelled, "k", []byte("v")); err == nil {
		t.Fatal("a cache write with its context cancelled worked")
	}
	if got := synchronous(); got != 2 {
		t.Fatalf("the writer is at synchronous=%d after writing the cache, want 2 (FULL)", got)
	}
	mustAppendN(t, s, "treaty-synced", 1)
	if v, err := s.CacheGet(ctx, "k"); err != nil || v != nil {
		t.Fatalf("cache after delete: %q, %v", v, err)
	}
}

// doneAfter is a context that ends at its nth call of Done: a cancellation
// that lands at a chosen point of a call.
type doneAfter struct {
	context.Context
	n, calls int
	mu       sync.Mutex
	ch       chan struct{}
}

func (c *doneAfter) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls == c.n {
		close(c.ch)
	}
	return c.ch
}

func (c *doneAfter) Err() error {
	select {
	case <-c.ch:
		return context.Canceled
	default:
		return nil
	}
}

// TestCacheWriteCancelledLeavesAppendsSynced: a cache write whose context
// ends at any point, including while synchronous=NORMAL is being set (the
// pragma takes effect, the call reports the context), leaves the writer at
// synchronous=FULL.
func TestCacheWriteCancelledLeavesAppendsSynced(t *testing.T) {
	s := openTemp(t)
	for n := 1; n <= 16; n++ {
		ctx := &doneAfter{Context: context.Background(), n: n, ch: make(chan struct{})}
		_ = s.CachePut(ctx, "k", []byte("v"))
		var v int
		if err := s.writer.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != 2 {
			t.Fatalf("context ended at its call %d of Done: the writer is at synchronous=%d after writing the cache, want 2 (FULL)", n, v)
		}
	}
}

// TestShortReadFreesItsConnection: a read of the last few events hands its
// connection back before yielding the first, so that reading the store while
// handling them reuses it; a longer read, one from further back, or one
// holding many bytes, streams on its connection. Either way every event
// comes, in order.
func TestShortReadFreesItsConnection(t *testing.T) {
	s := openTemp(t)
	mustAppendN(t, s, "treaty-short", shortRead)
	mustAppendN(t, s, "treaty-long", shortRead+1)
	big := make([]byte, shortBytes/2+1)
	for i := range big {
		big[i] = 'a'
	}
	bigEvents := make([]eventstore.EventData, 2)
	for i := range bigEvents {
		bigEvents[i] = eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: fmt.Appendf(nil, `{"text":%q}`, big), Metadata: []byte(`{}`)}
	}
	if _, err := s.Append(context.Background(), "treaty-big", eventstore.Any(), bigEvents...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stream string
		from   uint64
		events int
		out    int64 // connections out while an event is handled
	}{
		{"treaty-short", 0, shortRead, 0},
		{"treaty-long", 0, shortRead + 1, 1},
		{"treaty-long", 1, shortRead, 0},
		{"treaty-big", 0, 2, 1},
	} {
		n := 0
		for e, err := range s.Read(context.Background(), c.stream, c.from) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Revision != c.from+uint64(n) {
				t.Fatalf("%s: revision %d at %d", c.stream, e.Revision, n)
			}
			if out := s.rawOut.Load(); out != c.out {
				t.Fatalf("%s: %d read connections out while event %d is handled, want %d", c.stream, out, n, c.out)
			}
			if got := count(t, s, "treaty-short"); got != shortRead {
				t.Fatalf("%s: a read inside the loop saw %d events", c.stream, got)
			}
			n++
		}
		if n != c.events {
			t.Fatalf("%s: %d events read, want %d", c.stream, n, c.events)
		}
	}
	s.rawMu.Lock()
	idle := len(s.raw)
	s.rawMu.Unlock()
	if idle != 2 {
		t.Fatalf("%d idle read connections, want 2: one for the reads inside the loops, one more for the long reads", idle)
	}
}

// TestShortReadYieldsEventsBeforeAnError: the events a short read read before
// it found the stream broken come before the error, as they would streamed.
func TestShortReadYieldsEventsBeforeAnError(t *testing.T) {
	s := openTemp(t)
	mustAppendN(t, s, "treaty-gap", 5)
	if _, err := s.writer.Exec(`UPDATE events SET revision = 9 WHERE stream = 'treaty-gap' AND revision = 3`); err != nil {
		t.Fatal(err)
	}
	var revs []uint64
	var last error
	for e, err := range s.Read(context.Background(), "treaty-gap", 0) {
		if err != nil {
			last = err
			continue
		}
		revs = append(revs, e.Revision)
	}
	if !slices.Equal(revs, []uint64{0, 1, 2}) || !errors.Is(last, eventstore.ErrCorrupt) {
		t.Fatalf("read %v then %v, want revisions 0 to 2 then the gap", revs, last)
	}
}

// TestOpenRawFails: a read connection to a database without the store's
// tables (one being created by another process, say) fails with SQLite's
// error and frees what it had opened.
func TestOpenRawFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA journal_mode=WAL; CREATE TABLE notes (text TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c, err := openRaw(path, time.Second, false, false)
	if err == nil || c != nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("openRaw on a database without the tables: %v, %v", c, err)
	}
}

// TestOpenCurrentStore: a store of the current schema in WAL mode opens
// without the writer's connection, which opens at the first write, or beside
// the first reads when the caller says it will append; either way appends
// and reads work.
func TestOpenCurrentStore(t *testing.T) {
	path := storeFile(t, "treaty.db", "treaty-cur", 2)
	for _, appending := range []bool{false, true} {
		s, err := Open(context.Background(), path, eventstore.Config{Appending: appending})
		if err != nil {
			t.Fatal(err)
		}
		s.warming.Wait()
		if open := s.writer.Stats().OpenConnections; open != map[bool]int{false: 0, true: 1}[appending] {
			t.Fatalf("appending %v: the writer has %d connections open after Open", appending, open)
		}
		mustAppendN(t, s, "treaty-cur", 1)
		if n := count(t, s, "treaty-cur"); n != 3+map[bool]int{false: 0, true: 1}[appending] {
			t.Fatalf("appending %v: %d events read back", appending, n)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the write-ahead log was left beside the store: %v", err)
	}
}

// TestOpenReadersBeside: a store opened for reads side by side has that
// many read connections idle once Open's warm-up is done (the one it opened
// to look at the file, and the others beside it), so that the reads open
// none; closed straight after Open, or after reads, it leaves one file and
// no connection out.
func TestOpenReadersBeside(t *testing.T) {
	path := storeFile(t, "treaty.db", "treaty-rd", 2)
	for _, c := range []struct {
		readers, idle int
		read          bool
	}{{0, 1, true}, {2, 2, true}, {3, 3, true}, {2 * maxIdleRaw, maxIdleRaw, true}, {3, 0, false}} {
		s, err := Open(context.Background(), path, eventstore.Config{Readers: c.readers})
		if err != nil {
			t.Fatal(err)
		}
		if c.read {
			s.warming.Wait()
			s.rawMu.Lock()
			idle := len(s.raw)
			s.rawMu.Unlock()
			if idle != c.idle {
				t.Fatalf("Readers %d: %d read connections idle after Open, want %d", c.readers, idle, c.idle)
			}
			var reads sync.WaitGroup
			for range c.idle {
				reads.Go(func() {
					if n := count(t, s, "treaty-rd"); n != 2 {
						t.Errorf("Readers %d: read %d events", c.readers, n)
					}
				})
			}
			reads.Wait()
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if out := s.rawOut.Load(); out != 0 {
			t.Fatalf("Readers %d: %d read connections out after Close", c.readers, out)
		}
		s.rawMu.Lock()
		left := len(s.raw)
		s.rawMu.Unlock()
		if left != 0 {
			t.Fatalf("Readers %d: %d read connections kept after Close", c.readers, left)
		}
		for _, ext := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + ext); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("Readers %d: %s left beside the store (%v)", c.readers, ext, err)
			}
		}
	}
}

// TestOneFileAfterReads: a store opened without its writer's connection
// and only read, or read by a store that closes after another appended,
// is left one file: the last connection to close folds the write-ahead log
// back into it and removes it.
func TestOneFileAfterReads(t *testing.T) {
	path := storeFile(t, "treaty.db", "treaty-one", 2)
	oneFile := func(when string) {
		t.Helper()
		for _, ext := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + ext); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s: %s left beside the store (%v)", when, ext, err)
			}
		}
	}
	r, err := Open(context.Background(), path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, r, "treaty-one"); n != 2 {
		t.Fatalf("read %d events", n)
	}
	if !r.rawWritable || r.writer.Stats().OpenConnections != 0 {
		t.Fatal("the store was not opened without its writer's connection: the case under test did not happen")
	}
	r.Close()
	oneFile("after a read")

	r, err = Open(context.Background(), path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	count(t, r, "treaty-one")
	w, err := Open(context.Background(), path, eventstore.Config{Appending: true})
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, w, "treaty-one", 5)
	w.Close()
	r.Close()
	oneFile("after a reader closed after a writer")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), copyPath, eventstore.Config{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := count(t, c, "treaty-one"); n != 7 {
		t.Fatalf("a copy of the file alone holds %d of 7 events", n)
	}
}

// TestFileHeldWhileOpen: an open Store's file is known to be held, so that
// a second Open of it (by this path or another) in the same process does not
// open and close it (which would drop the first's locks); once closed, it
// is not.
func TestFileHeldWhileOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "treaty.db")
	a, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, a, "treaty-held", 1)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !inUse.holds(fi) {
		t.Fatal("an open store's file is not known to be held")
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), link, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, b, "treaty-held"); n != 1 {
		t.Fatalf("the second store read %d events", n)
	}
	a.Close()
	if !inUse.holds(fi) {
		t.Fatal("the file is held by the second store, which is still open")
	}
	b.Close()
	if inUse.holds(fi) {
		t.Fatal("a closed store's file is still held")
	}
}

// TestGetRawWaitsForWarming: a read that finds no connection idle while one
// is being opened beside it waits for a connection put back rather than
// open one more; when the warm-up ends without one, it opens its own.
func TestGetRawWaitsForWarming(t *testing.T) {
	path := storeFile(t, "treaty.db", "treaty-wait", 2)
	s, err := Open(context.Background(), path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.warming.Wait()
	first, err := s.getRaw() // the only one idle
	if err != nil {
		t.Fatal(err)
	}
	s.rawMu.Lock()
	s.rawWarming++ // as warmRawBeside counts one it starts
	s.rawMu.Unlock()
	got := make(chan *rawConn, 1)
	get := func() {
		c, err := s.getRaw()
		if err != nil {
			t.Error(err)
		}
		got <- c
	}
	go get()
	select {
	case c := <-got:
		t.Fatalf("getRaw returned %p while a connection was being opened beside it", c)
	case <-time.After(50 * time.Millisecond):
	}
	s.putRaw(first)
	if c := <-got; c != first {
		t.Fatalf("getRaw returned %p, not the connection put back (%p)", c, first)
	}
	go get()
	s.warmed() // the warm-up failed: no connection to wait for
	second := <-got
	if second == nil || second == first {
		t.Fatalf("after a warm-up that kept none, getRaw returned %p (the first: %p)", second, first)
	}
	s.putRaw(first)
	s.putRaw(second)
	if n := count(t, s, "treaty-wait"); n != 2 {
		t.Fatalf("read %d events", n)
	}
}

// TestGetRawAfterClose: a read waiting for a connection when the store is
// closed, and one that asks after, get ErrClosed and open none: Close may
// have let the file go.
func TestGetRawAfterClose(t *testing.T) {
	path := storeFile(t, "treaty.db", "treaty-closing", 2)
	s, err := Open(context.Background(), path, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.warming.Wait()
	held, err := s.getRaw()
	if err != nil {
		t.Fatal(err)
	}
	s.rawMu.Lock()
	s.rawWarming++ // a warm-up under way: the next getRaw waits
	s.rawMu.Unlock()
	waited := make(chan error, 1)
	go func() {
		c, err := s.getRaw()
		if c != nil {
			s.putRaw(c)
		}
		waited <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("a getRaw waiting as the store closed: %v, want ErrClosed", err)
	}
	if c, err := s.getRaw(); c != nil || !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("getRaw after Close: %p, %v; want no connection and ErrClosed", c, err)
	}
	s.warmed()
	s.putRaw(held) // closed once the store is: nothing left out
	if out := s.rawOut.Load(); out != 0 {
		t.Fatalf("%d read connections out", out)
	}
}
