// Package sqlite is the embedded event store: one SQLite file, in WAL mode,
// written through modernc.org/sqlite (pure Go, no cgo).
//
// It registers itself with eventstore under the scheme "sqlite", so that
// eventstore.Open(ctx, "sqlite:treaty.db") and eventstore.Open(ctx,
// "treaty.db") open a file. Several goroutines and several processes may
// share one file: every append is one BEGIN IMMEDIATE transaction, checked
// against the expected revision inside it, waiting up to the configured
// timeout for another writer's lock. An acknowledged append has been fsynced
// (synchronous=FULL) and survives power loss.
//
// Subscribe (eventstore.Subscriber) follows a stream: appends through the same
// Store wake its subscriptions at once, and appends by other processes are
// found by looking up the stream's event count every 200 ms, one
// primary-key lookup outside any transaction.
//
// The file stays inspectable with any SQLite tool: event IDs are UUID text and
// data and metadata are JSON text. The schema lives in migrations/*.sql,
// applied in order on open and tracked with PRAGMA user_version.
//
// The package must never interpret event payloads (they are bytes kept as
// given) and must never migrate a database that is not a treaty store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/treaty-engine/treaty/eventstore"
)

// scheme is the URI scheme this backend registers with eventstore.
const scheme = "sqlite"

// DefaultTimeout is how long a call waits for another writer's lock when
// Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

var (
	// ErrNewerSchema: the file was written by a newer treaty, whose schema
	// this code does not know. Nothing was changed; upgrade treaty.
	ErrNewerSchema = errors.New("store written by a newer treaty")
	// ErrNotStore: the path exists but is not a treaty store: a directory, a
	// file that is not an SQLite database, or an SQLite database of another
	// application. Nothing was changed.
	ErrNotStore = errors.New("not a treaty store")
)

func init() {
	eventstore.Register(scheme, func(ctx context.Context, uri string, cfg eventstore.Config) (eventstore.Store, error) {
		path, err := pathFromURI(uri)
		if err != nil {
			return nil, err
		}
		s, err := Open(ctx, path, cfg)
		if err != nil {
			return nil, err // not s: a nil *Store in an interface is not nil
		}
		return s, nil
	})
}

// pathFromURI returns the file path a "sqlite:" URI names: "sqlite:PATH" is
// PATH taken literally (relative or absolute), and "sqlite:///abs/path.db"
// (or "sqlite://localhost/abs/path.db") is "/abs/path.db". Any other host is
// refused: the embedded store is a local file.
func pathFromURI(uri string) (string, error) {
	i := strings.IndexByte(uri, ':')
	if i < 0 || !strings.EqualFold(uri[:i], scheme) {
		return "", fmt.Errorf("%q is not a %s: URI: use sqlite:PATH or sqlite:///abs/path.db", uri, scheme)
	}
	rest := uri[i+1:]
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		host, p, _ := strings.Cut(after, "/")
		if host != "" && host != "localhost" {
			return "", fmt.Errorf("%q names host %q, but the embedded store is a local file: use sqlite:///abs/path.db or sqlite:relative/path.db", uri, host)
		}
		rest = "/" + p
	}
	if rest == "" || rest == "/" {
		return "", fmt.Errorf("%q names no file: use sqlite:PATH, e.g. sqlite:treaty.db", uri)
	}
	return rest, nil
}

// Store is an event store in one SQLite file. It implements eventstore.Store
// and is safe for concurrent use by several goroutines; several processes may
// open the same file at once.
type Store struct {
	path    string
	timeout time.Duration
	// immutable: the file and its directory are read-only to this process,
	// and the store is read as it stands (SQLite's immutable mode).
	immutable bool

	// writer holds the single connection this process appends through:
	// writes serialise on the file's lock anyway, so the goroutines of one
	// process queue in database/sql (honouring ctx) rather than poll the
	// lock in SQLite's busy handler. It is nil when the store is read-only.
	writer *sql.DB
	// readers serve the schema check of a read-only open (nil otherwise);
	// WAL lets them run beside a writer. Reads of events, streams and the
	// cache use raw connections.
	readers *sql.DB

	// readOnly, when set, is the error Append returns (wrapping
	// eventstore.ErrReadOnly).
	readOnly error
	// warming runs the opening of the writer's connection for a caller
	// that said it will append (Config.Appending); Close cancels it if it
	// has not begun, and waits for it.
	warming     sync.WaitGroup
	stopWarming context.CancelFunc
	// rawWritable opens the read connections for writing, refusing writes
	// themselves (see current).
	rawWritable bool

	// The writer's statements, each prepared on first use (see ready),
	// under stmtMu.
	stmtMu                      sync.Mutex
	wHead, wFind, wIDs, wUpsert *sql.Stmt
	wInsert                     [len(insertRows)]*sql.Stmt

	// raw holds the idle connections Read uses (see rawConn); rawOut
	// counts those taken by getRaw and not yet given back to putRaw or
	// dropRaw, which the conformance suite's leak check reads. rawWarming
	// counts those warmRaw is opening, and rawPut (on rawMu) wakes a
	// getRaw that waits for one.
	rawMu      sync.Mutex
	rawPut     sync.Cond
	raw        []*rawConn
	rawWarming int
	rawOut     atomic.Int64

	closed atomic.Bool
	// done is closed by Close: it wakes subscriptions waiting for events.
	done chan struct{}
	// appended wakes this store's subscriptions when it has appended.
	appended signal
}

// signal wakes every goroutine waiting on it when it fires.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next fire.
func (g *signal) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

// fire wakes the goroutines waiting; it costs a lock when none is.
func (g *signal) fire() {
	g.mu.Lock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
	g.mu.Unlock()
}

// inUse holds the files this process's Stores have open (see checkFile), by
// identity: from before SQLite opens one until its last connection closes.
var inUse openFiles

// hold records s's file in inUse, once it exists.
func (s *Store) hold() {
	if fi, err := os.Stat(s.path); err == nil {
		inUse.add(s, fi)
	}
}

// release drops s's file from inUse once s is closed and its last read
// connection is back: until then a connection still holds its locks.
func (s *Store) release() {
	if s.closed.Load() && s.rawOut.Load() == 0 {
		inUse.remove(s)
	}
}

type openFiles struct {
	mu    sync.Mutex
	files map[*Store]os.FileInfo
}

func (o *openFiles) add(s *Store, fi os.FileInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.files == nil {
		o.files = map[*Store]os.FileInfo{}
	}
	o.files[s] = fi
}

func (o *openFiles) remove(s *Store) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.files, s)
}

func (o *openFiles) holds(fi os.FileInfo) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range o.files {
		if os.SameFile(f, fi) {
			return true
		}
	}
	return false
}

// maxIdleRaw bounds the read connections kept open between reads.
const maxIdleRaw = 4

// getRaw returns an idle read connection, or a new one; the caller gives
// it back with putRaw, or with dropRaw when it failed. With none idle while
// warmRaw is opening one, it waits for the first put back rather than open
// one more: that takes as long, and the process a connection more. Once the
// store is closed it opens none (ErrClosed): Close may have let the file go.
func (s *Store) getRaw() (*rawConn, error) {
	s.rawMu.Lock()
	for len(s.raw) == 0 && s.rawWarming > 0 && !s.closed.Load() {
		s.rawPut.Wait()
	}
	if s.closed.Load() {
		s.rawMu.Unlock()
		return nil, eventstore.ErrClosed
	}
	if n := len(s.raw); n > 0 {
		c := s.raw[n-1]
		s.raw = s.raw[:n-1]
		s.rawOut.Add(1)
		s.rawMu.Unlock()
		return c, nil
	}
	s.rawMu.Unlock()
	c, err := openRaw(s.path, s.timeout, s.immutable, s.rawWritable)
	if err == nil {
		s.rawOut.Add(1)
	}
	return c, err
}

// warmRawBeside opens a read connection on another goroutine (warmRaw).
func (s *Store) warmRawBeside() {
	s.rawMu.Lock()
	s.rawWarming++
	s.rawMu.Unlock()
	s.warming.Go(s.warmRaw)
}

// warmRaw opens a read connection and keeps it idle for the next read.
func (s *Store) warmRaw() {
	defer s.warmed()
	if s.closed.Load() {
		return
	}
	c, err := openRaw(s.path, s.timeout, s.immutable, s.rawWritable)
	if err != nil {
		return // the read that wants one opens it, and reports why not
	}
	s.rawOut.Add(1)
	s.putRaw(c)
}

// warmed records the end of a warm-up, which may have kept no connection:
// a getRaw waiting for it then opens its own.
func (s *Store) warmed() {
	s.rawMu.Lock()
	s.rawWarming--
	s.rawMu.Unlock()
	s.rawPut.Broadcast()
}

// putRaw keeps c for the next read, or closes it once the store is closed or
// enough are idle.
func (s *Store) putRaw(c *rawConn) {
	s.rawMu.Lock()
	keep := !s.closed.Load() && len(s.raw) < maxIdleRaw
	if keep {
		s.raw = append(s.raw, c)
		s.rawOut.Add(-1)
	}
	s.rawMu.Unlock()
	if keep {
		s.rawPut.Signal()
	} else {
		c.close()
		s.rawOut.Add(-1) // once closed: see release
		s.release()
	}
}

// dropRaw closes c, a connection that failed, instead of keeping it.
func (s *Store) dropRaw(c *rawConn) {
	c.close()
	s.rawOut.Add(-1)
	s.release()
}

var _ eventstore.Store = (*Store)(nil)

// Path returns the absolute path of the store's file.
func (s *Store) Path() string { return s.path }

// Close releases the store's connections. Calls made after Close fail with an
// error wrapping eventstore.ErrClosed, and a Read iteration still running
// ends with that error at its next event, a Subscribe iteration at once if
// it waits for events. Closing twice is harmless.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	s.rawMu.Lock()
	for _, c := range s.raw {
		c.close()
	}
	s.raw = nil
	s.rawMu.Unlock()
	s.rawPut.Broadcast()
	if s.stopWarming != nil {
		s.stopWarming()
	}
	s.warming.Wait()
	var errs []error
	for _, st := range append([]*sql.Stmt{s.wHead, s.wFind, s.wIDs, s.wUpsert}, s.wInsert[:]...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if s.readers != nil {
		errs = append(errs, s.readers.Close())
	}
	s.release()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing %s: %w", s.path, err)
	}
	return nil
}

// checkOpen reports ErrClosed once Close has been called.
func (s *Store) checkOpen(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %s: %w", op, s.path, eventstore.ErrClosed)
	}
	return nil
}
