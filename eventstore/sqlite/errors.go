package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/treaty-engine/treaty/eventstore"
)

// Primary SQLite result codes this package explains; extended codes carry
// them in their low byte.
const (
	codeBusy     = sqlite3.SQLITE_BUSY
	codeLocked   = sqlite3.SQLITE_LOCKED
	codeReadOnly = sqlite3.SQLITE_READONLY
	codeCantOpen = sqlite3.SQLITE_CANTOPEN
	codeNotADB   = sqlite3.SQLITE_NOTADB
	codeFull     = sqlite3.SQLITE_FULL
)

// coder is an SQLite error: modernc.org/sqlite's *Error or a rawError.
type coder interface{ Code() int }

var _ coder = (*sqlite.Error)(nil)

// isCode reports whether err is an SQLite error with primary result code code,
// or with extended result code code when code has extended bits.
func isCode(err error, code int) bool {
	var c coder
	if !errors.As(err, &c) {
		return false
	}
	if code > 0xff {
		return c.Code() == code
	}
	return c.Code()&0xff == code
}

// noShm explains an error SQLite reports when it cannot create the -shm file
// a WAL database needs even for reading, or nil for any other error.
func (s *Store) noShm(err error) error {
	if !isCode(err, sqlite3.SQLITE_READONLY_DIRECTORY) && !isCode(err, sqlite3.SQLITE_READONLY_CANTINIT) {
		return nil
	}
	return fmt.Errorf("cannot read %s: SQLite must create %s-shm beside it to read a store in WAL mode, but directory %s is not writable: make the directory writable, or copy the store to a writable one (%w): %w: %w",
		s.path, filepath.Base(s.path), filepath.Dir(s.path), err, eventstore.ErrReadOnly, errNoShm)
}

// errNoShm marks the error of noShm.
var errNoShm = errors.New("no shared-memory file")

// readOnlyErr explains a write refused because the file cannot be written.
func (s *Store) readOnlyErr(op string, err error) error {
	return fmt.Errorf("%s: %s cannot be written (%w): check the permissions of the file and its directory, or open it read-only: %w", op, s.path, err, eventstore.ErrReadOnly)
}

// wrap explains err, met during op, in terms a user can act on, keeping both
// the eventstore error and the SQLite one testable with errors.Is/As.
func (s *Store) wrap(op string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %s: %w", op, s.path, eventstore.ErrClosed)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %s: %w", op, s.path, err)
	case isCode(err, codeReadOnly):
		if e := s.noShm(err); e != nil {
			return fmt.Errorf("%s: %w", op, e)
		}
		return s.readOnlyErr(op, err)
	case isCode(err, codeBusy), isCode(err, codeLocked):
		return fmt.Errorf("%s: %s stayed locked by another writer for longer than the timeout (%s): retry, or raise the timeout: %w", op, s.path, s.timeout, err)
	case isCode(err, codeFull):
		return fmt.Errorf("%s: %s: the disk is full: free some space and retry: %w", op, s.path, err)
	case isCode(err, codeNotADB):
		return fmt.Errorf("%s: %w (%w)", op, notSQLite(s.path), err)
	}
	return fmt.Errorf("%s: %s: %w", op, s.path, err)
}
