package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/google/uuid"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/internal/recbuf"
	"github.com/treaty-engine/treaty/internal/hugepages"
)

// Reading goes around database/sql: through it, each column of each row costs
// the driver two mutex-guarded calls into SQLite, an allocation and an
// interface, which made a full read of 100,000 events about three times
// slower than driving SQLite directly. A rawConn drives the same transpiled
// SQLite directly, on a connection that only reads (see openRaw) and without
// SQLite's per-call mutex (a rawConn is used by one goroutine at a time), and copies
// each event's bytes once. Writes stay on database/sql, whose driver waits
// for locks in a way that honours ctx; their cost is SQLite's own.

// rawConn is a SQLite connection that only reads, driven through
// modernc.org/sqlite's C API.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
	// Prepared once per connection.
	begin, rollback, head, events uintptr
	// Prepared on first use (see lazy).
	cacheRow, cacheKeys, cacheKeysFrom, streams, streamsFrom uintptr
	// names holds "main", "cache" and "value" as C strings, for
	// sqlite3_blob_open; chunk is where blob reads land before Go copies
	// them (see cacheGet).
	names [3]uintptr
	chunk uintptr
}

const (
	rawHeadSQL   = `SELECT events FROM streams WHERE name = ?1`
	rawEventsSQL = `SELECT revision, id, type, data, metadata, created
		FROM events WHERE stream = ?1 AND revision >= ?2 ORDER BY revision`
)

// rawError is an SQLite error met on a rawConn; Code reports its result code
// as modernc.org/sqlite's Error does, so isCode treats both alike.
type rawError struct {
	code int
	msg  string
}

func (e *rawError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }
func (e *rawError) Code() int     { return e.code }

// openRaw opens a connection to the file at path that only reads. With
// writable, SQLite opens the file for writing (falling back to reading only
// when it may not), so that this connection, closing last, folds the
// write-ahead log back into the file and removes it, syncing as the
// writer's does (synchronous=FULL); query_only refuses changes to data and
// schema through it, and it runs only the reads of this file.
func openRaw(path string, timeout time.Duration, immutable, writable bool) (_ *rawConn, err error) {
	// The connection is closed through its own variable: every failure
	// returns a nil *rawConn.
	c := &rawConn{tls: libc.NewTLS()}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	uri, flags := dsnPath(path)+"?mode=ro", int32(sqlite3.SQLITE_OPEN_READONLY)
	if writable {
		uri, flags = dsnPath(path)+"?mode=rw", sqlite3.SQLITE_OPEN_READWRITE
	}
	if immutable {
		uri += "&immutable=1"
	}
	name, err := libc.CString(uri)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	pdb := libc.Xcalloc(c.tls, 1, ptrSize)
	if pdb == 0 {
		return nil, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pdb)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb,
		flags|sqlite3.SQLITE_OPEN_URI|sqlite3.SQLITE_OPEN_NOMUTEX|sqlite3.SQLITE_OPEN_EXRESCODE, 0)
	c.db = readPtr(pdb) // set even on failure, so that close frees it
	if rc != sqlite3.SQLITE_OK {
		return nil, c.err(rc)
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, int32(min(timeout.Milliseconds(), 1<<31-1)))
	if writable {
		if err := c.exec("PRAGMA query_only=1; PRAGMA synchronous=FULL"); err != nil {
			return nil, err
		}
	}
	// No memory-mapped I/O: mapping the file made a full read about 18%
	// faster, but every page read stayed in the process's resident memory,
	// so a replay of a million events grew to the size of the file. Read
	// through SQLite's bounded page cache instead.
	for _, p := range []struct {
		dst *uintptr
		sql string
	}{{&c.begin, "BEGIN"}, {&c.rollback, "ROLLBACK"}, {&c.head, rawHeadSQL}, {&c.events, rawEventsSQL}} {
		if *p.dst, err = c.prepare(p.sql); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ptrSize is the size of a C pointer.
const ptrSize = libc.Tsize_t(unsafe.Sizeof(uintptr(0)))

// readPtr reads the C pointer stored at p.
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, int(ptrSize))
	if ptrSize == 8 {
		return uintptr(binary.NativeEndian.Uint64(b))
	}
	return uintptr(binary.NativeEndian.Uint32(b))
}

func (c *rawConn) err(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	return &rawError{code: int(rc), msg: msg}
}

func (c *rawConn) exec(sql string) error {
	z, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, z)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, z, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	return nil
}

func (c *rawConn) prepare(sql string) (uintptr, error) {
	z, err := libc.CString(sql)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, z)
	pp := libc.Xcalloc(c.tls, 1, ptrSize)
	if pp == 0 {
		return 0, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pp)
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, pp, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.err(rc)
	}
	return readPtr(pp), nil
}

// schema returns the file's application_id and user_version, and whether
// it is in WAL mode and this connection may write it, read together.
func (c *rawConn) schema() (appID, version int64, wal, writable bool, err error) {
	st, err := c.prepare(`SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version), (SELECT journal_mode FROM pragma_journal_mode)`)
	if err != nil {
		return 0, 0, false, false, err
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, st)
	if rc := sqlite3.Xsqlite3_step(c.tls, st); rc != sqlite3.SQLITE_ROW {
		return 0, 0, false, false, c.err(rc)
	}
	appID, version = sqlite3.Xsqlite3_column_int64(c.tls, st, 0), sqlite3.Xsqlite3_column_int64(c.tls, st, 1)
	wal = strings.EqualFold(string(c.column(st, 2)), "wal")
	main, err := libc.CString("main")
	if err != nil {
		return 0, 0, false, false, err
	}
	defer libc.Xfree(c.tls, main)
	writable = sqlite3.Xsqlite3_db_readonly(c.tls, c.db, main) == 0
	return appID, version, wal, writable, nil
}

// lazy returns the statement *st, preparing sql into it on first use: a
// command that never lists or reads the cache does not pay for compiling
// those queries.
func (c *rawConn) lazy(st *uintptr, sql string) (uintptr, error) {
	if *st == 0 {
		p, err := c.prepare(sql)
		if err != nil {
			return 0, err
		}
		*st = p
	}
	return *st, nil
}

// close finalizes the statements and closes the connection.
func (c *rawConn) close() {
	if c.tls == nil {
		return
	}
	for _, st := range []uintptr{c.begin, c.rollback, c.head, c.events, c.cacheRow, c.cacheKeys, c.cacheKeysFrom, c.streams, c.streamsFrom} {
		if st != 0 {
			sqlite3.Xsqlite3_finalize(c.tls, st)
		}
	}
	for _, p := range append(c.names[:], c.chunk) {
		if p != 0 {
			libc.Xfree(c.tls, p)
		}
	}
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
	}
	c.tls.Close()
	*c = rawConn{}
}

// step runs a statement that returns no rows.
func (c *rawConn) step(st uintptr) error {
	rc := sqlite3.Xsqlite3_step(c.tls, st)
	sqlite3.Xsqlite3_reset(c.tls, st)
	if rc != sqlite3.SQLITE_DONE {
		return c.err(rc)
	}
	return nil
}

// Reads of the last shortRead events or fewer, holding at most shortBytes,
// are returned whole rather than yielded (see Store.Read): a command folding
// the few events past its checkpoint then reads the checkpoint's parts on
// the same connection, where opening a second one cost it 0.4 ms. A read
// starting further back streams, so that one taking a single old event reads
// only that one.
const (
	shortRead  = 64
	shortBytes = 1 << 20
)

// read reads the events of stream from revision from on, from one read
// transaction, and returns the error to yield last; see Store.Read. When
// hold and they are the last few (see shortRead), it returns them without
// yielding any, for the caller to yield once the connection is free;
// otherwise it yields them all and returns none. Events read before an
// error are returned with it, to be yielded before it.
func (c *rawConn) read(ctx context.Context, s *Store, stream string, from uint64, hold bool, yield func(eventstore.RecordedEvent, error) bool) (short []eventstore.RecordedEvent, err error) {
	op := "read " + stream
	// Bound without copying (SQLITE_STATIC): z outlives both statements'
	// use, which ends with the resets below.
	z, err := libc.CString(stream)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, z)
	if err := c.step(c.begin); err != nil {
		return nil, s.wrap(op, err)
	}
	defer func() {
		sqlite3.Xsqlite3_reset(c.tls, c.head)
		sqlite3.Xsqlite3_reset(c.tls, c.events)
		sqlite3.Xsqlite3_clear_bindings(c.tls, c.head)
		sqlite3.Xsqlite3_clear_bindings(c.tls, c.events)
		c.step(c.rollback) // ends the snapshot; nothing to undo
	}()

	sqlite3.Xsqlite3_bind_text(c.tls, c.head, 1, z, int32(len(stream)), 0)
	var n uint64
	switch rc := sqlite3.Xsqlite3_step(c.tls, c.head); rc {
	case sqlite3.SQLITE_ROW:
		n = uint64(sqlite3.Xsqlite3_column_int64(c.tls, c.head, 0))
	case sqlite3.SQLITE_DONE:
		return nil, fmt.Errorf("%s: %w", op, eventstore.ErrStreamNotFound)
	default:
		return nil, s.wrap(op, c.err(rc))
	}
	if from >= n {
		return nil, nil
	}

	st := c.events
	sqlite3.Xsqlite3_bind_text(c.tls, st, 1, z, int32(len(stream)), 0)
	sqlite3.Xsqlite3_bind_int64(c.tls, st, 2, int64(from))
	var (
		arena recbuf.Arena
		types = recbuf.Types{}
		want  = from
		held  int // bytes of short; -1 once events are yielded as read
	)
	if !hold || n-from > shortRead {
		held = -1
	}
	for {
		rc := sqlite3.Xsqlite3_step(c.tls, st)
		if rc == sqlite3.SQLITE_DONE {
			break
		}
		if rc != sqlite3.SQLITE_ROW {
			return short, s.wrap(op, c.err(rc))
		}
		// Checked per event: cheap, and cancellation then takes effect
		// before the next one.
		if err := s.live(ctx, op); err != nil {
			return short, err
		}
		rev := uint64(sqlite3.Xsqlite3_column_int64(c.tls, st, 0))
		if rev != want {
			return short, fmt.Errorf("%s: revision %d where %d was due: the file was edited by hand and the stream has a gap: %w", op, rev, want, eventstore.ErrCorrupt)
		}
		want++
		ev := eventstore.RecordedEvent{
			Stream:   stream,
			Revision: rev,
			Type:     types.Intern(c.column(st, 2)),
			Created:  time.Unix(0, sqlite3.Xsqlite3_column_int64(c.tls, st, 5)).UTC(),
		}
		if ev.ID, err = uuid.ParseBytes(c.column(st, 1)); err != nil {
			return short, fmt.Errorf("%s: event at revision %d has a malformed ID %q: the file was edited by hand: %w", op, rev, c.column(st, 1), eventstore.ErrCorrupt)
		}
		// The column bytes belong to SQLite until the next step: copy
		// them, once, into memory the caller may keep.
		ev.Data, ev.Metadata = arena.Copy(c.column(st, 3), c.column(st, 4))
		if held >= 0 {
			held += len(ev.Data) + len(ev.Metadata)
			if len(short) < shortRead && held <= shortBytes {
				short = append(short, ev)
				continue
			}
			// Too many to hold: yield those held, then each as it is read.
			held = -1
			for _, e := range short {
				if !yield(e, nil) {
					return nil, nil
				}
			}
			short = nil
		}
		if !yield(ev, nil) {
			return nil, nil
		}
	}
	if want != n {
		return short, fmt.Errorf("%s: the stream holds %d events but its count says %d: the file was edited by hand: %w", op, want, n, eventstore.ErrCorrupt)
	}
	return short, nil
}

// column returns the bytes of column i of the current row of st, valid until
// the next step or reset of st.
func (c *rawConn) column(st uintptr, i int32) []byte {
	p := sqlite3.Xsqlite3_column_blob(c.tls, st, i)
	n := sqlite3.Xsqlite3_column_bytes(c.tls, st, i)
	if p == 0 || n <= 0 {
		return nil
	}
	return libc.GoBytes(p, int(n))
}

// count returns the number of events in stream (0 when it has none) from one
// lookup in the streams table. The statement runs outside any explicit
// transaction and is reset before count returns, so no read transaction
// outlives the call: a waiting subscription holds no snapshot that would
// keep a checkpoint from finishing.
func (c *rawConn) count(stream string) (uint64, error) {
	z, err := libc.CString(stream)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, z)
	defer func() {
		sqlite3.Xsqlite3_reset(c.tls, c.head) // ends the implicit read transaction
		sqlite3.Xsqlite3_clear_bindings(c.tls, c.head)
	}()
	sqlite3.Xsqlite3_bind_text(c.tls, c.head, 1, z, int32(len(stream)), 0)
	switch rc := sqlite3.Xsqlite3_step(c.tls, c.head); rc {
	case sqlite3.SQLITE_ROW:
		return uint64(sqlite3.Xsqlite3_column_int64(c.tls, c.head, 0)), nil
	case sqlite3.SQLITE_DONE:
		return 0, nil
	default:
		return 0, c.err(rc)
	}
}

// textRows runs st with its parameters bound to args (text) and calls row
// for each row; st is reset before textRows returns, which ends the read
// transaction of the statement.
func (c *rawConn) textRows(st uintptr, args []string, row func() error) error {
	var zs []uintptr
	defer func() {
		sqlite3.Xsqlite3_reset(c.tls, st)
		sqlite3.Xsqlite3_clear_bindings(c.tls, st)
		for _, z := range zs {
			libc.Xfree(c.tls, z)
		}
	}()
	for i, a := range args {
		z, err := libc.CString(a)
		if err != nil {
			return err
		}
		zs = append(zs, z)
		sqlite3.Xsqlite3_bind_text(c.tls, st, int32(i+1), z, int32(len(a)), 0)
	}
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, st); rc {
		case sqlite3.SQLITE_ROW:
			if err := row(); err != nil {
				return err
			}
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			return c.err(rc)
		}
	}
}

// chunkSize is how much of a cached value one sqlite3_blob_read copies.
const chunkSize = 64 << 10

// cacheGet returns the value cached under key, or nil when there is none.
// A checkpoint runs to megabytes, and every command reads one: read through
// SQLite's incremental blob I/O, the value's overflow pages go from the file
// through one small buffer into the Go slice returned, instead of being
// assembled in SQLite's memory and copied twice more on the way out. The
// slice is hugepages.Bytes': on huge pages in a short command.
func (c *rawConn) cacheGet(key string) ([]byte, error) {
	st, err := c.lazy(&c.cacheRow, `SELECT rowid, length(value) FROM cache WHERE key = ?1`)
	if err != nil {
		return nil, err
	}
	var value []byte
	// The blob is read while the statement holds the row, in its snapshot.
	err = c.textRows(st, []string{key}, func() error {
		rowid := sqlite3.Xsqlite3_column_int64(c.tls, st, 0)
		value = hugepages.Bytes(int(sqlite3.Xsqlite3_column_int64(c.tls, st, 1)))
		return c.readBlob(rowid, value)
	})
	return value, err
}

// readBlob fills dst from the start of the cache value in row rowid.
func (c *rawConn) readBlob(rowid int64, dst []byte) error {
	if c.names[0] == 0 {
		for i, n := range []string{"main", "cache", "value"} {
			z, err := libc.CString(n)
			if err != nil {
				return err
			}
			c.names[i] = z
		}
	}
	if c.chunk == 0 {
		if c.chunk = libc.Xmalloc(c.tls, chunkSize); c.chunk == 0 {
			return errors.New("out of memory")
		}
	}
	pp := libc.Xcalloc(c.tls, 1, ptrSize)
	if pp == 0 {
		return errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pp)
	if rc := sqlite3.Xsqlite3_blob_open(c.tls, c.db, c.names[0], c.names[1], c.names[2], rowid, 0, pp); rc != sqlite3.SQLITE_OK {
		return c.err(rc)
	}
	blob := readPtr(pp)
	defer sqlite3.Xsqlite3_blob_close(c.tls, blob)
	if n := int(sqlite3.Xsqlite3_blob_bytes(c.tls, blob)); n != len(dst) {
		return fmt.Errorf("cache value of %d bytes where %d were announced", n, len(dst))
	}
	for off := 0; off < len(dst); off += chunkSize {
		n := min(chunkSize, len(dst)-off)
		if rc := sqlite3.Xsqlite3_blob_read(c.tls, blob, c.chunk, int32(n), int32(off)); rc != sqlite3.SQLITE_OK {
			return c.err(rc)
		}
		copy(dst[off:off+n], cBytes(c.chunk, n))
	}
	return nil
}

// cacheKeysWith returns the cached keys that start with prefix, in byte
// order.
func (c *rawConn) cacheKeysWith(prefix string) ([]string, error) {
	st, args, err := c.prefixQuery(&c.cacheKeys, &c.cacheKeysFrom, `SELECT key FROM cache`, "key", prefix)
	if err != nil {
		return nil, err
	}
	var keys []string
	err = c.textRows(st, args, func() error {
		keys = append(keys, string(c.column(st, 0)))
		return nil
	})
	return keys, err
}

// streamsWith lists the streams whose names start with prefix, sorted by
// name, with their numbers of events.
func (c *rawConn) streamsWith(prefix string) ([]eventstore.StreamInfo, error) {
	st, args, err := c.prefixQuery(&c.streams, &c.streamsFrom, `SELECT name, events FROM streams`, "name", prefix)
	if err != nil {
		return nil, err
	}
	var out []eventstore.StreamInfo
	err = c.textRows(st, args, func() error {
		out = append(out, eventstore.StreamInfo{Name: string(c.column(st, 0)),
			Events: uint64(sqlite3.Xsqlite3_column_int64(c.tls, st, 1))})
		return nil
	})
	return out, err
}

// prefixQuery returns the statement sel + a condition on col selecting the
// rows where col starts with prefix, in col's order, and its arguments: a
// range on col, not LIKE, which would scan every row and treat '%' and '_'
// in prefix as wildcards.
func (c *rawConn) prefixQuery(bounded, from *uintptr, sel, col, prefix string) (uintptr, []string, error) {
	where, order := " WHERE "+col+" >= ?1", " ORDER BY "+col
	if end, ok := prefixEnd(prefix); ok {
		st, err := c.lazy(bounded, sel+where+" AND "+col+" < ?2"+order)
		return st, []string{prefix, end}, err
	}
	st, err := c.lazy(from, sel+where+order)
	return st, []string{prefix}, err
}

// cBytes returns the n bytes at p, memory from libc.Xmalloc, as a slice
// valid until p is freed. Such memory lies outside the Go heap, so the
// conversion is sound; going through p's address keeps vet from reading it
// as a uintptr that may point into the heap.
func cBytes(p uintptr, n int) []byte {
	return unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&p))), n)
}
