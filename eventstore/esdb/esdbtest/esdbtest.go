// Package esdbtest is a protocol double of EventStoreDB's v1 gRPC Streams API,
// for tests. It is not a database and no substitute for testing against a
// real KurrentDB: it keeps events in memory, knows no users, ACLs, clusters,
// scavenging, projections or persistent subscriptions, and mimics only the
// answers that github.com/EventStore/EventStore-Client-Go/v4 asks for and
// that the treaty backend relies on. Where the real server's behaviour is
// known, the double copies it (expected-revision checks, its windowed
// idempotency, WrongExpectedVersion answers, StreamNotFound on the first
// read response, Confirmation before a subscription's events); everything
// else is a guess that only a run against a real server can confirm (set
// TREATY_TEST_ESDB for that).
//
// A Server listens on 127.0.0.1:0 over plain TCP (connect with tls=false),
// answers ServerFeatures/GetSupportedMethods and Streams Read and Append, and
// can be told to misbehave (see Fault) so that tests can prove a client
// survives a bad server. Every recorded event it sends carries the created,
// type and content-type metadata a real server sends, unless a fault says
// otherwise.
//
// The package is for tests only: production code must never import it.
package esdbtest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"

	features "github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// Fault makes the double misbehave in one of the ways a broken, foreign or
// overloaded server might.
type Fault int32

const (
	// None: answer as the real server would.
	None Fault = iota
	// NoCreated: recorded events are sent without the "created" system
	// metadata. The v4 client calls log.Fatalf on such an event
	// (esdb/protobuf_utils.go, createdFromProto), ending the process.
	NoCreated
	// UnexpectedRead: a plain (non-subscription) read answers a Checkpoint
	// before anything else, a message the v4 client does not expect there;
	// its ReadStream.Recv panics on it (esdb/reads.go, "unreachable code").
	UnexpectedRead
	// EmptyAppendResult: an append is answered with neither success nor
	// wrong-expected-version; the v4 client then reports success with a
	// made-up revision (esdb/client.go, the end of AppendToStream).
	EmptyAppendResult
	// Hang: Streams calls (Read, Append) are accepted and never answered,
	// until the client gives up. ServerFeatures still answers, so a client
	// connects and then waits.
	Hang
	// Silent: TCP connections are accepted but never answered, not even
	// with the HTTP/2 preface. Applies to connections made after it is set.
	Silent
	// Refuse: TCP connections are accepted and closed at once. Applies to
	// connections made after it is set.
	Refuse

	// The faults below are answers that open-source servers speaking this
	// protocol were seen to give Go clients.

	// EmptyFeatures: ServerFeatures/GetSupportedMethods is answered with an
	// empty message: no methods and no server version. The v4 client
	// cannot parse the missing version (esdb/impl.go, getSupportedMethods),
	// so every discovery attempt fails until it gives up. Applies to
	// connections made after it is set (the client asks when it connects).
	EmptyFeatures
	// EmptyMethodList: ServerFeatures/GetSupportedMethods is answered with
	// the server's version and an empty method list. The v4 client then
	// takes every optional feature to be missing, which changes only its
	// persistent-subscription calls. Applies to connections made after it
	// is set.
	EmptyMethodList
	// FirstStreamPosition: a read of a stream (not a subscription) answers
	// a first_stream_position message before the stream's events, as a
	// server does that ignores the client's compatibility level (KurrentDB
	// sends it only to clients that ask for compatibility 1 or more). The
	// v4 client's ReadStream.Recv panics on it (esdb/reads.go,
	// "unreachable code").
	FirstStreamPosition
	// LastStreamPosition: a forward read of a stream (not a subscription)
	// that reaches the stream's end answers a last_stream_position message
	// after its last event, which the v4 client panics on as on
	// FirstStreamPosition. A read of fewer events than are left (the
	// client's read of one event, say) never gets to it.
	LastStreamPosition
	// WrongAppendRevision: appends are decided and stored as usual, but a
	// successful one is answered with a current revision one past the
	// true one (the stream's length, not its last revision).
	WrongAppendRevision
	// ChangedIDs: the server does not keep event IDs as given: it stores
	// each appended event under the ID with the byte order of its first
	// three fields reversed (the 16 bytes read as a little-endian .NET
	// Guid), and reads answer with the IDs it stored. Its own repeat checks
	// compare the IDs as it stores them. Events stored meanwhile keep
	// their changed IDs after the fault is cleared.
	ChangedIDs
	// StringUUIDsOnly: the server accepts event IDs only in the string form
	// of the protocol's UUID message: an append whose events carry the
	// structured form (as the v4 client always sends them) is refused with
	// InvalidArgument (see StringUUIDsOnlyMessage), and reads answer with
	// string IDs whatever the client asks for.
	StringUUIDsOnly
)

// StringUUIDsOnlyMessage is the status message of an append refused under
// StringUUIDsOnly.
const StringUUIDsOnlyMessage = "Invalid event id: only string UUIDs are supported"

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case NoCreated:
		return "no-created"
	case UnexpectedRead:
		return "unexpected-read"
	case EmptyAppendResult:
		return "empty-append-result"
	case Hang:
		return "hang"
	case Silent:
		return "silent"
	case Refuse:
		return "refuse"
	case EmptyFeatures:
		return "empty-features"
	case EmptyMethodList:
		return "empty-method-list"
	case FirstStreamPosition:
		return "first-stream-position"
	case LastStreamPosition:
		return "last-stream-position"
	case WrongAppendRevision:
		return "wrong-append-revision"
	case ChangedIDs:
		return "changed-ids"
	case StringUUIDsOnly:
		return "string-uuids-only"
	}
	return fmt.Sprintf("fault(%d)", int32(f))
}

// Option configures a Server at Start.
type Option func(*config)

type config struct {
	addr           string
	fault          Fault
	noFeatures     bool
	legacyCaughtUp bool
	window         int
}

// WithFault starts the server with fault f already set, so that even the
// client's first connection meets it.
func WithFault(f Fault) Option { return func(c *config) { c.fault = f } }

// WithAddr listens on addr (host:port) instead of 127.0.0.1:0: a test that
// restarts a server where a client expects it uses the address of one it
// stopped.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithoutServerFeatures answers ServerFeatures/GetSupportedMethods with
// Unimplemented, as servers before 21.10 do; the client accepts that.
func WithoutServerFeatures() Option { return func(c *config) { c.noFeatures = true } }

// WithoutCaughtUp makes catch-up subscriptions behave as servers before
// 23.10 do: no CaughtUp message when they turn live; a filtered
// subscription to $all sends a Checkpoint at the end of the log instead.
func WithoutCaughtUp() Option { return func(c *config) { c.legacyCaughtUp = true } }

// WithIdempotencyWindow sets how many of the most recently appended events
// an append with expected revision Any or StreamExists is compared with to
// detect a repeat (the real server keeps a bounded cache of recent event
// IDs; the default here is 1,000). Appends with an exact revision are
// compared with the stream itself, however old.
func WithIdempotencyWindow(n int) Option { return func(c *config) { c.window = n } }

// Server is a running double. Its methods are safe for concurrent use.
type Server struct {
	uri   string
	addr  string
	grpc  *grpc.Server
	lis   net.Listener
	fault atomic.Int32
	cfg   config
	log   *eventLog

	heldMu sync.Mutex
	held   []net.Conn // connections a Silent server holds open
	closed bool

	closeOnce sync.Once
}

// Start starts a double on 127.0.0.1:0 (see WithAddr), listening before it
// returns, and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Listen(opts...)
	if err != nil {
		t.Fatalf("esdbtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Listen starts a double outside a test (for a child process or a
// benchmark harness); the caller must Close it.
func Listen(opts ...Option) (*Server, error) {
	cfg := config{addr: "127.0.0.1:0", window: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	s := &Server{cfg: cfg, log: newEventLog(cfg.window), addr: lis.Addr().String()}
	s.uri = "esdb://" + s.addr + "?tls=false"
	s.fault.Store(int32(cfg.fault))
	s.lis = &faultListener{Listener: lis, s: s}
	s.grpc = grpc.NewServer()
	api.RegisterStreamsServer(s.grpc, &streamsServer{s: s})
	features.RegisterServerFeaturesServer(s.grpc, &featuresServer{s: s})
	go s.grpc.Serve(s.lis) //nolint:errcheck // Serve returns when Close stops it
	return s, nil
}

// URI returns the connection string that reaches the double:
// "esdb://127.0.0.1:PORT?tls=false".
func (s *Server) URI() string { return s.uri }

// Addr returns the double's host:port.
func (s *Server) Addr() string { return s.addr }

// SetFault changes how the double misbehaves from now on. Silent and Refuse
// apply to connections made afterwards; a client that is already connected
// keeps its connection.
func (s *Server) SetFault(f Fault) { s.fault.Store(int32(f)) }

func (s *Server) currentFault() Fault { return Fault(s.fault.Load()) }

// Events returns the number of events the double holds in all streams.
func (s *Server) Events() int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return len(s.log.all)
}

// Close stops the server: listeners and connections are closed and every
// call in progress ends. Closing twice is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.grpc.Stop()
		s.heldMu.Lock()
		s.closed = true
		for _, c := range s.held {
			c.Close()
		}
		s.held = nil
		s.heldMu.Unlock()
	})
}

// faultListener applies the connection-level faults.
type faultListener struct {
	net.Listener
	s *Server
}

func (l *faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		switch l.s.currentFault() {
		case Refuse:
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset, as from a closed port's host
			}
			c.Close()
			continue
		case Silent:
			l.s.heldMu.Lock()
			if l.s.closed {
				c.Close()
			} else {
				l.s.held = append(l.s.held, c)
			}
			l.s.heldMu.Unlock()
			continue
		}
		return c, nil
	}
}
