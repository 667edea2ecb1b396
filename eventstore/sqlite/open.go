package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/treaty-engine/treaty/eventstore"
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Open opens the treaty store in the SQLite file at path.
//
// Without cfg.Create a missing file, or an SQLite database without tables,
// fails with an error wrapping eventstore.ErrStoreNotFound; with it the file
// is created and the schema applied, in one transaction. A path that is a
// directory, a file that is not an SQLite database, or an SQLite database of
// another application fails with an error wrapping ErrNotStore, a store
// written by a newer treaty with ErrNewerSchema; none of them is modified.
//
// With cfg.ReadOnly nothing is ever written and Append fails with
// eventstore.ErrReadOnly; the same happens when the file cannot be written.
// Reading needs the store's -shm file beside it: when SQLite may not create
// it because the directory cannot be written, Open fails with an error
// saying so and wrapping eventstore.ErrReadOnly. cfg.Timeout (default DefaultTimeout)
// bounds each wait for another connection's lock, in this process or
// another.
func Open(ctx context.Context, path string, cfg eventstore.Config) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: empty path: name a file, e.g. treaty.db")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	missing, err := checkFile(abs, cfg)
	if err != nil {
		return nil, err
	}
	configurePageCache()
	s := &Store{path: abs, timeout: cfg.Timeout, done: make(chan struct{})}
	s.rawPut.L = &s.rawMu
	// Held from before SQLite opens it: a second Open meanwhile must not
	// open and close it either.
	s.hold()
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if err := s.open(ctx, cfg, missing); err != nil {
		// A file this call created is left in place: another process may
		// have opened it meanwhile, and an empty database is harmless.
		s.Close()
		if !errors.Is(err, errNoShm) || missing {
			return nil, err
		}
		// Neither the file nor its directory can be written (an archive, a
		// read-only mount): nobody else can change it either, so read it
		// as it is, without the shared memory WAL wants.
		s = &Store{path: abs, timeout: s.timeout, immutable: true, done: make(chan struct{})}
		s.rawPut.L = &s.rawMu
		s.hold()
		cfg.ReadOnly = true
		if err := s.open(ctx, cfg, false); err != nil {
			s.Close()
			return nil, err
		}
		s.readOnly = fmt.Errorf("append to store %s: neither it nor its directory can be written, so it is read as it stands: %w", abs, eventstore.ErrReadOnly)
	}
	if missing {
		s.hold() // the file this call created has an identity now
	}
	return s, nil
}

// checkFile refuses paths that cannot hold a store before SQLite sees them,
// so that the error names the problem rather than an SQLite code, and reports
// whether the file is missing (and may be created), and what it is when it
// is there. A file another Store of this process has open is not opened:
// closing a descriptor of it would drop the locks SQLite holds on it for
// that Store, and it is known to be a store.
func checkFile(path string, cfg eventstore.Config) (missing bool, err error) {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() && inUse.holds(fi) {
		return false, nil
	}
	return checkPath(path, fi, err, cfg)
}

// checkPath is checkFile's look at a file no Store of this process holds;
// fi and err are what os.Stat said of it.
func checkPath(path string, fi os.FileInfo, err error, cfg eventstore.Config) (missing bool, _ error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if cfg.ReadOnly {
			return false, fmt.Errorf("no treaty store at %s (the file does not exist; opening read-only cannot create it): %w", path, eventstore.ErrStoreNotFound)
		}
		if !cfg.Create {
			return false, fmt.Errorf("no treaty store at %s (the file does not exist): check the path, or ask to create a new store: %w", path, eventstore.ErrStoreNotFound)
		}
		dir := filepath.Dir(path)
		if di, err := os.Stat(dir); err != nil || !di.IsDir() {
			return false, fmt.Errorf("cannot create store %s: directory %s does not exist: create it first", path, dir)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("cannot open store %s: %w", path, err)
	case fi.IsDir():
		return false, fmt.Errorf("%s is a directory, not a treaty store file: name a file, e.g. %s: %w", path, filepath.Join(path, "treaty.db"), ErrNotStore)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("%s is not a regular file, so not a treaty store: %w", path, ErrNotStore)
	case fi.Size() == 0:
		return false, nil // SQLite's empty database; the schema check decides
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot read store %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("cannot read store %s: %w", path, err)
	}
	if !bytes.Equal(head, sqliteMagic) {
		return false, notSQLite(path)
	}
	return false, nil
}

func notSQLite(path string) error {
	return fmt.Errorf("%s is not a treaty store (not an SQLite database): %w", path, ErrNotStore)
}

// role selects the connection settings of a pool.
type role int

const (
	roleWriter role = iota
	roleReadOnly
)

// dsn builds the modernc.org/sqlite data source name for path. It is a file:
// URI so that SQLite honours mode (ro refuses every write at the lowest level,
// rw refuses to create a missing file), and carries the per-connection
// pragmas every connection of the pool needs.
func dsn(path string, r role, create, immutable bool, timeout time.Duration) string {
	var b strings.Builder
	b.WriteString(dsnPath(path))
	switch {
	case immutable:
		b.WriteString("?mode=ro&immutable=1")
	case r == roleReadOnly:
		b.WriteString("?mode=ro")
	case create:
		b.WriteString("?mode=rwc")
	default:
		b.WriteString("?mode=rw")
	}
	ms := timeout.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	b.WriteString("&_pragma=busy_timeout(" + strconv.FormatInt(ms, 10) + ")")
	// Per connection, so every connection that may commit or checkpoint
	// says it: an acknowledged append is on disk.
	b.WriteString("&_pragma=synchronous(FULL)")
	switch r {
	case roleWriter:
		// Take the write lock at BEGIN: a deferred transaction that reads
		// and then writes can fail with SQLITE_BUSY_SNAPSHOT, which no
		// busy timeout retries.
		b.WriteString("&_txlock=immediate")
	case roleReadOnly:
		b.WriteString("&_pragma=query_only(1)")
	}
	return b.String()
}

// dsnPath returns the file: URI of the absolute path, without a query.
func dsnPath(path string) string {
	var b strings.Builder
	b.WriteString("file:")
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		b.WriteByte('/') // "C:/x.db" must read as an absolute path
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/._-~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c) // '?', '#', '%' and spaces would end or garble the path
		}
	}
	return b.String()
}

func (s *Store) open(ctx context.Context, cfg eventstore.Config, missing bool) error {
	if !cfg.ReadOnly {
		w, err := sql.Open("sqlite", dsn(s.path, roleWriter, missing, false, s.timeout))
		if err != nil {
			return s.openErr(err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		s.writer = w
	} else {
		s.readOnly = fmt.Errorf("append to store %s: it was opened read-only: %w", s.path, eventstore.ErrReadOnly)
		// Reads go through the read connections (see rawConn); this pool
		// is for checkSchema's look at a file this process may not write.
		// A store it may write is looked at through its writer, and opens
		// no pool it would not use.
		rd, err := sql.Open("sqlite", dsn(s.path, roleReadOnly, false, s.immutable, s.timeout))
		if err != nil {
			return s.openErr(err)
		}
		rd.SetMaxIdleConns(4)
		s.readers = rd
	}

	if !cfg.ReadOnly && !missing && s.current() {
		if cfg.Appending {
			// The writer's connection opens on the other core while the
			// caller reads what it will act on. Close cancels it if it has
			// not begun, and waits for it otherwise.
			warm, cancel := context.WithCancel(context.WithoutCancel(ctx))
			s.stopWarming = cancel
			s.warming.Go(func() { s.writer.PingContext(warm) })
		}
		// The read connections the caller will want side by side open
		// on the other core while it makes its first reads on the one
		// current opened. Close waits for them.
		for range min(cfg.Readers, maxIdleRaw) - 1 {
			s.warmRawBeside()
		}
		return nil
	}
	return s.checkSchema(ctx, cfg)
}

// current reports whether the file is, as it stands, a store of this
// code's schema in WAL mode that this process may write: then there is
// nothing to check or change, and the writer's connection is opened when
// something is first written (a command that only reads never opens it),
// or beside the caller's first reads when it says it will append. It looks
// through a read connection opened for writing (see openRaw), kept for the
// reads to come, as are those opened after it: whichever connection closes
// last then removes the write-ahead log, so that the store stays one file
// between commands. The file is not opened otherwise: closing a descriptor
// of it would drop the locks of other connections of this process.
// Anything else (a file to create, migrate, refuse, or read only) goes
// through checkSchema, which says what it finds.
func (s *Store) current() bool {
	c, err := openRaw(s.path, s.timeout, false, true)
	if err != nil {
		return false
	}
	appID, version, wal, writable, err := c.schema()
	if err != nil || !wal || !writable || appID != applicationID || version != int64(SchemaVersion()) {
		c.close()
		return false
	}
	s.rawWritable = true
	s.rawMu.Lock()
	s.raw = append(s.raw, c)
	s.rawMu.Unlock()
	return true
}

// useWAL puts the file in WAL mode, a property of the file that later opens
// keep; it is called only once the file is known to be (or become) a store.
// A file this process may not write stays readable: appends then fail with
// ErrReadOnly.
func (s *Store) useWAL(ctx context.Context) error {
	var mode string
	var err error
	// Leaving the rollback journal takes an exclusive lock for which SQLite
	// calls no busy handler: processes creating one store at once see
	// SQLITE_BUSY at once, and wait here as the timeout promises.
	deadline := time.Now().Add(s.timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err = s.writer.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil || !isCode(err, codeBusy) || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return s.openErr(ctx.Err())
		case <-time.After(wait):
		}
	}
	switch {
	case err != nil && isCode(err, codeReadOnly) && s.noShm(err) == nil:
		s.writer.Close()
		s.writer = nil
		s.readOnly = s.readOnlyErr("append", err)
	case err != nil:
		return s.openErr(err)
	case !strings.EqualFold(mode, "wal"):
		return fmt.Errorf("open store %s: SQLite kept journal mode %q instead of WAL: the file system may not support WAL (shared memory); put the store on a local disk", s.path, mode)
	}
	return nil
}

// writeSQL returns the SQL of the writer's statement held by dst (see
// ready). Only that one is built: the INSERTs of many rows take long to
// write out, and a command runs one or two of them.
func (s *Store) writeSQL(dst **sql.Stmt) string {
	switch dst {
	case &s.wHead:
		return `SELECT events FROM streams WHERE name = ?`
	case &s.wFind:
		return `SELECT stream, revision FROM events WHERE id = ?`
	case &s.wIDs:
		return `SELECT id FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`
	case &s.wUpsert:
		return `INSERT INTO streams (name, events) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET events = excluded.events`
	}
	for i, rows := range insertRows {
		if dst == &s.wInsert[i] {
			return insertSQL(rows)
		}
	}
	return ""
}

// ready compiles those of the writer's statements stmts that are not yet:
// each on first use, so that a command compiles only what it runs (the
// INSERT of 64 rows alone is a long program). It must be called outside a
// transaction, which holds the writer's only connection.
func (s *Store) ready(ctx context.Context, stmts ...**sql.Stmt) error {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	for _, dst := range stmts {
		if *dst != nil {
			continue
		}
		q := s.writeSQL(dst)
		if q == "" {
			return errors.New("no SQL for a statement of the writer") // a bug: ready is given the Store's fields
		}
		st, err := s.writer.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		*dst = st
	}
	return nil
}

// insertRows are the numbers of events one INSERT statement writes; a batch
// is written with as few statements as these sizes allow, since each
// statement costs far more than a row.
var insertRows = [...]int{64, 16, 4, 1}

// insertSQL returns the statement that writes rows events. Its parameters
// are ?1 the stream, ?2 the creation time, ?3 the first revision, and then
// four per event: ID, type, data, metadata.
func insertSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO events (stream, revision, id, type, data, metadata, created) VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		p := 4 + 4*i
		// data and metadata arrive as []byte, which SQLite would store
		// as BLOBs; the CAST keeps them TEXT, so that JSON functions and
		// the sqlite3 shell read them, without a copy in Go.
		fmt.Fprintf(&b, "(?1, ?3 + %d, ?%d, ?%d, CAST(?%d AS TEXT), CAST(?%d AS TEXT), ?2)", i, p, p+1, p+2, p+3)
	}
	// A duplicate ID is left unwritten, and the statement reports fewer
	// rows than it was given.
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	return b.String()
}

// openErr explains an error met while opening.
func (s *Store) openErr(err error) error {
	if e := s.noShm(err); e != nil {
		return e
	}
	switch {
	case isCode(err, codeNotADB):
		return fmt.Errorf("%w (%v)", notSQLite(s.path), err)
	case isCode(err, codeCantOpen):
		return fmt.Errorf("cannot open store %s: check that the file and its directory exist and are readable (and writable, unless opening read-only): %w", s.path, err)
	}
	return s.wrap("open store", err)
}
