package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/treaty-engine/treaty/eventstore"
)

// checkServer is what to check when a server cannot be reached.
const checkServer = "check that the server is running and accepts connections from here at that host and port " +
	"(listen_addresses, pg_hba.conf), and the URI's sslmode"

// SQLSTATE codes this package acts on.
const (
	codeUniqueViolation    = "23505"
	codeInsufficientPriv   = "42501"
	codeUndefinedTable     = "42P01"
	codeDuplicateTable     = "42P07"
	codeUndefinedObject    = "42704" // also: an unknown setting
	codeReadOnlyTx         = "25006"
	codeInvalidPassword    = "28P01"
	codeInvalidAuth        = "28000"
	codeNoDatabase         = "3D000"
	codeTooManyConnections = "53300"
	codeDeadlock           = "40P01"
	codeSerialization      = "40001"
	codeAdminShutdown      = "57P01"
	codeCrashShutdown      = "57P02"
	codeCannotConnectNow   = "57P03"
)

// pgCode returns the SQLSTATE of the server's error inside err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// transient reports whether a call that failed with err may succeed when
// made again on another connection: the connection was lost or refused,
// the server is shutting down, starting up or out of connection slots, or
// it broke a deadlock. A context's end is never transient: it ends the
// call.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if code := pgCode(err); code != "" {
		switch code {
		case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeTooManyConnections, codeDeadlock, codeSerialization:
			return true
		}
		return strings.HasPrefix(code, "08") // connection exception
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	var ne net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF")
}

// scrubbed is an error whose message has the URI's secrets taken out, and
// which still unwraps to the driver's error.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub hides the URI's password in err's message.
func (s *Store) scrub(err error) error {
	if err == nil || len(s.secrets) == 0 {
		return err
	}
	msg := err.Error()
	if clean := eventstore.Scrub(msg, s.secrets); clean != msg {
		return &scrubbed{clean, err}
	}
	return err
}

// explain turns err, met during op, into an error that names the URI,
// says what to check and stays testable with errors.Is: the eventstore
// error it amounts to (ErrClosed, ErrReadOnly, the caller's context error)
// or ErrUnreachable, beside the driver's own error. ctx is the caller's:
// its end is reported as such, the end of the call's own timeout as the
// server not answering in time.
func (s *Store) explain(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	err = s.scrub(err)
	var wr *eventstore.WrongRevisionError
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", op, s.uri, ctx.Err())
	case errors.As(err, &wr), errors.Is(err, eventstore.ErrDuplicateEvent), errors.Is(err, eventstore.ErrCorrupt),
		errors.Is(err, eventstore.ErrStreamNotFound), errors.Is(err, eventstore.ErrStoreNotFound), errors.Is(err, eventstore.ErrInvalid),
		errors.Is(err, eventstore.ErrReadOnly), errors.Is(err, ErrUnreachable), errors.Is(err, ErrNewerSchema):
		return err // explained where it was found
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeInvalidPassword, codeInvalidAuth:
			return fmt.Errorf("%s: %s refused the credentials (%v): check the user name and password in the URI (or PGPASSWORD, ~/.pgpass), and pg_hba.conf", op, s.uri, err)
		case codeNoDatabase:
			return fmt.Errorf("%s: %s: the database does not exist (%v): create it first (createdb, or CREATE DATABASE … ENCODING 'UTF8'), or name another", op, s.uri, err)
		case codeInsufficientPriv:
			return fmt.Errorf("%s: %s: the user may not do this (%v): treaty needs SELECT, INSERT, UPDATE and DELETE on its tables (and CREATE on the schema to make them), "+
				"or open the store read-only: %w", op, s.uri, err, eventstore.ErrReadOnly)
		case codeReadOnlyTx:
			return fmt.Errorf("%s: %s takes no writes (a standby, or default_transaction_read_only is on) (%v): %w", op, s.uri, err, eventstore.ErrReadOnly)
		case codeUndefinedObject:
			if strings.Contains(pe.Message, "configuration parameter") {
				return fmt.Errorf("%s: %s: the server does not know a setting of the URI (%v): check its spelling; settings other than libpq's go to the server", op, s.uri, err)
			}
		case codeTooManyConnections:
			return fmt.Errorf("%s: %s has no connection free (%v): raise the server's max_connections, or lower pool_max_conns in the URI", op, s.uri, err)
		}
	}
	switch msg := err.Error(); {
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return fmt.Errorf("%s: %s did not answer within %s: %s: %w", op, s.uri, s.timeout, checkServer, ErrUnreachable)
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		return fmt.Errorf("%s: %s: the server's TLS certificate is not trusted (%v): name its CA with sslrootcert=PATH, or use sslmode=require to skip the check", op, s.uri, err)
	case strings.Contains(msg, "server refused TLS"):
		return fmt.Errorf("%s: %s does not offer TLS (%v): use sslmode=disable or prefer, or turn ssl on at the server", op, s.uri, err)
	case transient(err):
		return fmt.Errorf("%s: cannot reach %s (%v): %s: %w", op, s.uri, err, checkServer, ErrUnreachable)
	}
	return fmt.Errorf("%s: %s: %w", op, s.uri, err)
}
