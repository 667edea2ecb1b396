package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/treaty-engine/treaty/eventstore"
)

// checkServer is what to check when a server cannot be reached.
const checkServer = "check that the server is running and reachable from here at that host and port, " +
	"that the URI's TLS settings match it (tls=false for a server started with --insecure; " +
	"tlsVerifyCert=false or tlsCAFile=PATH for a self-signed certificate), and the user name and password"

// unreachableHint says what to check for a connection that failed with
// message msg: the TLS settings when the failure shows a TLS mismatch, else
// everything.
func unreachableHint(msg string) string {
	switch {
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "the server does not use TLS: add tls=false to the URI"
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate"):
		return "the server's TLS certificate is not trusted: name its CA with tlsCAFile=PATH, or skip the check with tlsVerifyCert=false"
	}
	return checkServer
}

// discoveryFailed is how the client reports that it gave up connecting
// (esdb/impl.go, discoverNode); the client is unusable afterwards.
const discoveryFailed = "maximum discovery attempt count reached"

// badVersion is how the client reports a server-features answer whose
// version it cannot parse (esdb/impl.go, getSupportedMethods), an empty one
// included; it then counts the attempt to connect as failed.
const badVersion = "invalid EventStoreDB server version format"

// clientLog is the store's logger for the client (the client's own logs to
// the standard logger). It prints nothing: every failure the client logs
// also comes back as an error. It keeps the last reason the client gives
// for a failed attempt to connect (esdb/impl.go, discoverNode and the
// reconnect in connectionStateMachine), which the client otherwise reports
// only once it gives up, after MaxDiscoverAttempts attempts, to the call
// that waited that long; a call that times out first is told it here (see
// explain). A successful attempt forgets it.
func (s *Store) clientLog(level esdb.LogLevel, format string, args ...any) {
	switch {
	case (level == esdb.LogWarn || level == esdb.LogError) &&
		(strings.Contains(format, "candidate") || strings.Contains(format, "suggested node")):
		msg := fmt.Sprintf(format, args...)
		s.connectFailure.Store(&msg)
	case strings.HasPrefix(format, "retrieved supported features"), strings.HasPrefix(format, "selected node"),
		strings.HasPrefix(format, "successfully connected"):
		s.connectFailure.Store(nil)
	}
}

// clientCode returns the client's error code for err, if err is the
// client's error.
func clientCode(err error) (esdb.ErrorCode, bool) {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

func isCode(err error, code esdb.ErrorCode) bool {
	c, ok := clientCode(err)
	return ok && c == code
}

// wrongVersion: the server refused an append for its expected revision.
func wrongVersion(err error) bool { return isCode(err, esdb.ErrorCodeWrongExpectedVersion) }

// notFound: the stream has no events. The client reports it on the first
// Recv of a read, not when the read starts (esdb/reads.go, Recv).
func notFound(err error) bool { return isCode(err, esdb.ErrorCodeResourceNotFound) }

// dead reports whether err means the client will not work again.
func dead(err error) bool {
	return err != nil && (isCode(err, esdb.ErrorCodeConnectionClosed) || strings.Contains(err.Error(), discoveryFailed))
}

// grpcStatus returns the gRPC status inside err other than Unknown, or nil:
// the status itself, whose message is the server's (status.FromError gives
// a wrapping error's status the wrapper's whole text).
func grpcStatus(err error) *status.Status {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if g, ok := e.(interface{ GRPCStatus() *status.Status }); ok {
			if s := g.GRPCStatus(); s.Code() != codes.Unknown {
				return s
			}
		}
	}
	return nil
}

// grpcCode returns the gRPC status code inside err, or codes.OK.
func grpcCode(err error) codes.Code {
	if s := grpcStatus(err); s != nil {
		return s.Code()
	}
	return codes.OK
}

// idFormRefused reports whether err, met during op, is a server's refusal
// of an append for the form of its event IDs: the v4 client sends every
// event ID as the protocol's structured UUID (esdb/protobuf_utils.go,
// toProposedMessage), with no way to ask for the string form, which some
// servers accept only. It returns the server's own words.
func idFormRefused(op string, err error) (string, bool) {
	st := grpcStatus(err)
	if st == nil || !strings.HasPrefix(op, "append") {
		return "", false
	}
	m := strings.ToLower(st.Message())
	return st.Message(), strings.Contains(m, "uuid") || strings.Contains(m, "guid")
}

// explain turns err, met during op, into an error that names the URI, says
// what to check and stays testable with errors.Is: the eventstore error it
// amounts to (ErrClosed, ErrStreamNotFound, the caller's context error) or
// ErrUnreachable or ErrBadAnswer, beside the client's own error. ctx is the
// caller's: its end is reported as such, any other deadline as the server
// not answering.
func (s *Store) explain(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var (
		wr  *eventstore.WrongRevisionError
		cp  *clientPanic
		rb  *readBackError
		msg = err.Error()
	)
	said, idForm := idFormRefused(op, err)
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", op, s.uri, ctx.Err())
	case errors.As(err, &rb):
		return fmt.Errorf("%s: %s answered the append as stored at %s, but reading it back to check its event IDs failed; "+
			"a retry with the same event IDs is harmless: %w", op, s.uri, rb.at, s.explain(ctx, "read it back", rb.err))
	case errors.As(err, &wr), errors.Is(err, eventstore.ErrDuplicateEvent), errors.Is(err, eventstore.ErrCorrupt),
		errors.Is(err, ErrBadAnswer), errors.Is(err, ErrUnreachable), errors.Is(err, eventstore.ErrStreamNotFound):
		return err // explained where it was found
	case strings.Contains(msg, guardMarker):
		return fmt.Errorf("%s: %s sent an event this client cannot decode (%v): check that the URI names a KurrentDB or EventStoreDB server: %w",
			op, s.uri, err, ErrBadAnswer)
	case strings.Contains(msg, badVersion):
		return s.badFeatures(op, msg)
	case errors.As(err, &cp):
		what := ""
		if cp.value == unreachable {
			what = "; in a read, that is a message other than an event or stream-not-found, such as first_stream_position, " +
				"last_stream_position or a checkpoint, which KurrentDB sends only to clients that ask for them"
		}
		return fmt.Errorf("%s: %s sent a message this client does not understand (%v%s): check that the URI names a KurrentDB or EventStoreDB server, 20.10 or later: %w",
			op, s.uri, err, what, ErrBadAnswer)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isCode(err, esdb.ErrorCodeDeadlineExceeded),
		grpcCode(err) == codes.DeadlineExceeded:
		if p := s.connectFailure.Load(); p != nil {
			if strings.Contains(*p, badVersion) {
				return s.badFeatures(op, *p)
			}
			return fmt.Errorf("%s: %s did not answer within %s (the client's last attempt to connect failed: %s): %s: %w",
				op, s.uri, s.timeout, *p, unreachableHint(*p), ErrUnreachable)
		}
		return fmt.Errorf("%s: %s did not answer within %s: %s: %w", op, s.uri, s.timeout, checkServer, ErrUnreachable)
	case notFound(err):
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrStreamNotFound)
	case isCode(err, esdb.ErrorCodeStreamDeleted):
		return fmt.Errorf("%s: %s: the stream was deleted on the server (%v): %w", op, s.uri, err, eventstore.ErrStreamNotFound)
	case isCode(err, esdb.ErrorCodeUnauthenticated), grpcCode(err) == codes.Unauthenticated:
		return fmt.Errorf("%s: %s refused the credentials (%v): check the user name and password in the URI (esdb://user:password@host); "+
			"the client sends them only over TLS, so with tls=false the server sees no user", op, s.uri, err)
	case isCode(err, esdb.ErrorCodeAccessDenied), grpcCode(err) == codes.PermissionDenied:
		return fmt.Errorf("%s: %s denied access (%v): check that the URI's user may read and write the stream, and read $all (listing streams reads it)", op, s.uri, err)
	case isCode(err, esdb.ErrorCodeNotLeader):
		return fmt.Errorf("%s: %s is not the cluster's leader; the client is reconnecting to the leader (%v): retry", op, s.uri, err)
	case dead(err), isCode(err, esdb.ErrorUnavailable), isCode(err, esdb.ErrorCodeConnectionClosed), grpcCode(err) == codes.Unavailable:
		return fmt.Errorf("%s: cannot reach %s (%v): %s: %w", op, s.uri, err, unreachableHint(msg), ErrUnreachable)
	case idForm:
		return fmt.Errorf("%s: %s refused the event IDs in the form the EventStore client sends them (%q): the client sends every event ID "+
			"as a structured UUID (two 64-bit numbers) and cannot send the string form, which this server seems to accept only; "+
			"this store cannot append to it: use a KurrentDB or EventStoreDB server: %w", op, s.uri, said, ErrBadAnswer)
	case grpcCode(err) == codes.InvalidArgument && strings.Contains(msg, "Maximum Append Size"):
		return fmt.Errorf("%s: %s refused the append as too large (%v): append fewer or smaller events at a time, or raise the server's MaxAppendSize", op, s.uri, err)
	}
	return fmt.Errorf("%s: %s: %w", op, s.uri, err)
}

// badFeatures is the error for a server whose answer to the client's
// server-features call has no version the client can parse (an empty
// answer, from a server that implements the call without filling it in),
// on which the client refuses to connect; report is what the client
// reported, from badVersion on.
func (s *Store) badFeatures(op, report string) error {
	why := report[strings.Index(report, badVersion):]
	return fmt.Errorf("%s: %s answered the EventStore client's server-features call (ServerFeatures.GetSupportedMethods) "+
		"without a server version it can read, so the client will not connect to it (%s): a KurrentDB or EventStoreDB server "+
		"names its version there; check that the URI names one: %w", op, s.uri, why, ErrBadAnswer)
}
