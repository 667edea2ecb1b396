package esdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/esdb/esdbtest"
	"github.com/treaty-engine/treaty/eventstore/internal/faulttest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// faultTimeout is the timeout of stores that meet a misbehaving server:
// short, so the tests are quick, and long enough that a healthy call on a
// loaded machine does not hit it.
const faultTimeout = 1500 * time.Millisecond

// childEnv names the environment variable that makes the test binary run a
// child process role instead of the tests.
const childEnv = "ESDB_TEST_CHILD"

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		run := runChild
		if role == closeRole {
			run = runCloseChild
		}
		if err := run(role); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// wantSays checks that err's text says every phrase.
func wantSays(t *testing.T, err error, phrases ...string) {
	t.Helper()
	for _, p := range phrases {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

// TestOpenUnreachable: nothing listens at the URI's port; Open fails fast,
// naming the URI and what to check.
func TestOpenUnreachable(t *testing.T) {
	uri := "esdb://admin:s3cret@" + faulttest.FreePort(t) + "?tls=false"
	start := time.Now()
	_, err := Open(context.Background(), uri, eventstore.Config{Timeout: DefaultTimeout})
	faulttest.WantBounded(t, "Open", start, DefaultTimeout, err, uri, ErrUnreachable)
	for _, want := range []string{"running and reachable", "tls=false", "password", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the password", err)
	}
}

// TestOpenRefused: the server accepts connections and closes them at once.
func TestOpenRefused(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithFault(esdbtest.Refuse))
	start := time.Now()
	_, err := Open(context.Background(), srv.URI(), eventstore.Config{Timeout: faultTimeout})
	faulttest.WantBounded(t, "Open", start, faultTimeout, err, srv.URI(), ErrUnreachable)
}

// TestOpenSilent: the server accepts connections and never answers; Open
// gives up at the timeout, though the client would go on trying for
// MaxDiscoverAttempts × GossipTimeout (50 s by default).
func TestOpenSilent(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithFault(esdbtest.Silent))
	start := time.Now()
	_, err := Open(context.Background(), srv.URI(), eventstore.Config{Timeout: faultTimeout})
	faulttest.WantBounded(t, "Open", start, faultTimeout, err, srv.URI(), ErrUnreachable)
	if !strings.Contains(err.Error(), "did not answer within") {
		t.Errorf("error %q does not say the server did not answer", err)
	}
}

// TestOpenContext: Open honours its context before the timeout.
func TestOpenContext(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithFault(esdbtest.Silent))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, srv.URI(), eventstore.Config{Timeout: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > faulttest.Slack {
		t.Fatalf("Open with a 200 ms context: %v after %s, want context.DeadlineExceeded soon", err, time.Since(start))
	}
}

// TestOpenWithoutTLSSetting: a URI that leaves TLS on, against a server
// without it, fails naming the setting to change.
func TestOpenWithoutTLSSetting(t *testing.T) {
	srv := esdbtest.Start(t)
	uri := "esdb://" + srv.Addr()
	start := time.Now()
	_, err := Open(context.Background(), uri, eventstore.Config{Timeout: faultTimeout * 4})
	faulttest.WantBounded(t, "Open", start, faultTimeout*4, err, uri, ErrUnreachable)
	if !strings.Contains(err.Error(), "tls=false") {
		t.Errorf("error %q does not name tls=false", err)
	}
}

// TestOpenWithoutServerFeatures: a server that answers the features call
// with Unimplemented (before 21.10) is accepted, as the client does.
func TestOpenWithoutServerFeatures(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithoutServerFeatures())
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	storetest.MustAppend(t, s, "features", eventstore.NoStream(), storetest.Events("E", 1)...)
}

// TestEmptyServerFeatures: a server that answers the features call with an
// empty message (no version, no methods) is one the client will not connect
// to. Open fails within the timeout with ErrBadAnswer naming the server and
// the missing version, whether the client gives up first (after one
// attempt, or its default ten, about a second) or the timeout comes first
// (thirty attempts, three seconds), instead of blaming the network.
func TestEmptyServerFeatures(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithFault(esdbtest.EmptyFeatures))
	for _, uri := range []string{srv.URI() + "&maxDiscoverAttempts=1", srv.URI(), srv.URI() + "&maxDiscoverAttempts=30"} {
		start := time.Now()
		_, err := Open(context.Background(), uri, eventstore.Config{Timeout: faultTimeout})
		faulttest.WantBounded(t, "Open", start, faultTimeout, err, uri, ErrBadAnswer)
		wantSays(t, err, "server-features call", "without a server version", badVersion)
	}
}

// TestEmptyMethodList: a server that names its version and lists no
// methods is used as any other: the client consults the list only for
// persistent subscriptions, which the store does not use.
func TestEmptyMethodList(t *testing.T) {
	srv := esdbtest.Start(t, esdbtest.WithFault(esdbtest.EmptyMethodList))
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	es := storetest.Events("E", 2)
	storetest.MustAppend(t, s, "methods", eventstore.NoStream(), es...)
	if got := ids(t, s, "methods"); !slices.Equal(got, idsOf(es)) {
		t.Fatalf("read back %v, want %v", got, idsOf(es))
	}
}

// TestHangingServer: a server that accepts each call and never answers it
// makes every call fail at the timeout, naming the URI.
func TestHangingServer(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	storetest.MustAppend(t, s, "hang", eventstore.NoStream(), storetest.Events("E", 2)...)
	srv.SetFault(esdbtest.Hang)
	ctx := context.Background()

	start := time.Now()
	_, err := s.Append(ctx, "hang", eventstore.Any(), storetest.Events("E", 1)...)
	faulttest.WantBounded(t, "Append", start, faultTimeout, err, srv.URI(), ErrUnreachable)

	start = time.Now()
	var rerr error
	n := 0
	for _, err := range s.Read(ctx, "hang", 0) {
		if err != nil {
			rerr = err
			break
		}
		n++
	}
	faulttest.WantBounded(t, "Read", start, faultTimeout, rerr, srv.URI(), ErrUnreachable)

	start = time.Now()
	_, err = s.Streams(ctx, "hang")
	faulttest.WantBounded(t, "Streams", start, faultTimeout, err, srv.URI(), ErrUnreachable)

	// The server recovers; so does the store.
	srv.SetFault(esdbtest.None)
	storetest.MustAppend(t, s, "hang", eventstore.Exact(1), storetest.Events("E", 1)...)
}

// TestCloseEndsCalls: Close ends calls waiting on the server with
// ErrClosed, long before their timeout.
func TestCloseEndsCalls(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: time.Minute})
	srv.SetFault(esdbtest.Hang)
	errs := make(chan error, 2)
	go func() {
		_, err := s.Append(context.Background(), "closing", eventstore.Any(), storetest.Events("E", 1)...)
		errs <- err
	}()
	go func() {
		for _, err := range s.Read(context.Background(), "closing", 0) {
			errs <- err
			return
		}
		errs <- nil
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	s.Close()
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, eventstore.ErrClosed) {
				t.Fatalf("a call cut short by Close: %v, want ErrClosed", err)
			}
		case <-time.After(faulttest.Slack):
			t.Fatal("a call still waits after Close")
		}
	}
	t.Logf("calls ended %s after Close", time.Since(start))
}

// TestServerGoneDuringRead: the server stops in the middle of a long read;
// the read ends with an error naming the URI, and later calls fail fast
// until a server is back, then work again on a new connection.
func TestServerGoneDuringRead(t *testing.T) {
	srv := esdbtest.Start(t)
	addr := srv.Addr()
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout * 2})
	for range 4 {
		storetest.MustAppend(t, s, "gone", eventstore.Any(), storetest.Events("E", 500)...)
	}
	var n int
	var rerr error
	start := time.Now()
	for _, err := range s.Read(context.Background(), "gone", 0) {
		if err != nil {
			rerr = err
			break
		}
		if n++; n == 10 {
			srv.Close()
		}
	}
	faulttest.WantBounded(t, "Read", start, faultTimeout*2, rerr, srv.URI(), ErrUnreachable)
	if n == 2000 {
		t.Fatal("the read finished although the server stopped")
	}

	start = time.Now()
	_, err := s.Append(context.Background(), "gone", eventstore.Any(), storetest.Events("E", 1)...)
	faulttest.WantBounded(t, "Append to a stopped server", start, faultTimeout*2, err, srv.URI(), ErrUnreachable)

	// A new server where the old one was: the store connects afresh.
	back := esdbtest.Start(t, esdbtest.WithAddr(addr))
	storetest.MustAppend(t, s, "back", eventstore.NoStream(), storetest.Events("E", 1)...)
	if back.Events() != 2 { // the event and its reservation
		t.Fatalf("the new server holds %d events, want 2", back.Events())
	}
}

// TestEventWithoutCreated: the server sends recorded events without the
// created metadata, on which the client would end the process (see
// TestWithoutGuardTheClientExits). Every call that meets one fails with
// ErrBadAnswer, and the process goes on.
func TestEventWithoutCreated(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	storetest.MustAppend(t, s, "nocreated", eventstore.NoStream(), storetest.Events("E", 3)...)
	srv.SetFault(esdbtest.NoCreated)
	ctx := context.Background()
	var rerr error
	for _, err := range s.Read(ctx, "nocreated", 0) {
		if err != nil {
			rerr = err
			break
		}
		t.Fatal("Read yielded an event the server sent without created")
	}
	if !errors.Is(rerr, ErrBadAnswer) || !strings.Contains(rerr.Error(), "created") || !strings.Contains(rerr.Error(), srv.URI()) {
		t.Fatalf("Read: %v, want ErrBadAnswer about created naming the URI", rerr)
	}
	if _, err := s.Append(ctx, "nocreated", eventstore.Any(), storetest.Events("E", 1)...); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("Append (which reads the stream's last event): %v, want ErrBadAnswer", err)
	}
	if _, err := s.Streams(ctx, "nocreated"); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("Streams: %v, want ErrBadAnswer", err)
	}
	srv.SetFault(esdbtest.None)
	if got := ids(t, s, "nocreated"); len(got) != 3 {
		t.Fatalf("after the fault: %d events, want 3", len(got))
	}
}

// TestUnexpectedReadAnswer: a read answered with a message the client does
// not expect there makes it panic (esdb/reads.go, "unreachable code"): a
// checkpoint before the events, or a first_stream_position or
// last_stream_position message, which servers that ignore the client's
// compatibility level send. Every call that meets one fails within the
// timeout with ErrBadAnswer, naming the server and saying it sent a message
// this client does not understand; the process goes on, and so does the
// store once the server behaves. A read that meets last_stream_position
// after its events yields them first; calls that read one event never see
// it.
func TestUnexpectedReadAnswer(t *testing.T) {
	for _, tc := range []struct {
		fault esdbtest.Fault
		// events the read yields before failing; whether an Append with
		// Any (which reads the stream's last event) fails; whether Streams
		// (which reads each stream's last event) fails.
		before         int
		append, stream bool
	}{
		{esdbtest.UnexpectedRead, 0, true, true},
		{esdbtest.FirstStreamPosition, 0, true, true},
		{esdbtest.LastStreamPosition, 3, false, false},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			srv, s, first := faulted(t, tc.fault, "unexpected", 3)
			ctx := context.Background()
			bad := func(what string, start time.Time, err error) {
				t.Helper()
				faulttest.WantBounded(t, what, start, faultTimeout, err, srv.URI(), ErrBadAnswer)
				wantSays(t, err, "sent a message this client does not understand", "unreachable code", "first_stream_position")
			}

			start := time.Now()
			n, rerr := 0, error(nil)
			for _, err := range s.Read(ctx, "unexpected", 0) {
				if err != nil {
					rerr = err
					break
				}
				n++
			}
			bad("Read", start, rerr)
			if n != tc.before {
				t.Errorf("Read yielded %d events before failing, want %d", n, tc.before)
			}

			// A repeat reads the reservations to their end.
			start = time.Now()
			_, err := s.Append(ctx, "unexpected", eventstore.Any(), first...)
			bad("Append of a repeat", start, err)

			start = time.Now()
			_, err = s.Append(ctx, "unexpected", eventstore.Any(), storetest.Events("E", 1)...)
			if tc.append {
				bad("Append", start, err)
			} else if err != nil {
				t.Errorf("Append: %v", err)
			}
			start = time.Now()
			_, err = s.Streams(ctx, "unexpected")
			if tc.stream {
				bad("Streams", start, err)
			} else if err != nil {
				t.Errorf("Streams: %v", err)
			}
			// Subscriptions skip what they do not know; the double sends
			// these only in reads.
			sctx, cancel := context.WithTimeout(ctx, faultTimeout)
			defer cancel()
			for _, err := range s.Subscribe(sctx, "unexpected", 0) {
				if err != nil {
					t.Errorf("Subscribe: %v", err)
				}
				break
			}

			srv.SetFault(esdbtest.None)
			want := 3
			if !tc.append {
				want = 4
			}
			if got := ids(t, s, "unexpected"); len(got) != want {
				t.Fatalf("after the fault: %d events, want %d", len(got), want)
			}
		})
	}
}

// TestEmptyAppendAnswer: an append answered with neither success nor wrong
// version; the client makes up a revision, the store reports ErrBadAnswer
// saying the outcome is unknown and what a read found (nothing), and a
// retry with the same IDs appends the batch once the server behaves.
func TestEmptyAppendAnswer(t *testing.T) {
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	srv.SetFault(esdbtest.EmptyAppendResult)
	es := storetest.Events("E", 3)
	start := time.Now()
	_, err := s.Append(context.Background(), "empty", eventstore.NoStream(), es...)
	faulttest.WantBounded(t, "Append", start, faultTimeout, err, srv.URI(), ErrBadAnswer)
	wantSays(t, err, "whether the append landed as asked is unknown", "finds no event at revision 0", "retry with the same event IDs")
	srv.SetFault(esdbtest.None)
	if rev := storetest.MustAppend(t, s, "empty", eventstore.NoStream(), es...); rev != 2 {
		t.Fatalf("the retry: revision %d, want 2", rev)
	}
}

// TestWrongAppendRevision: the server stores an append and answers it with
// a revision past the last event's. The store does not report success with
// that revision: the outcome is unknown, and the error says so and what a
// read just after found. A retry with the same IDs, even while the server
// still misanswers, settles it by reading: the batch is reported stored at
// its revision, once.
func TestWrongAppendRevision(t *testing.T) {
	_, s, es := appendUnder(t, esdbtest.WrongAppendRevision, "wrongrev", func(es []eventstore.EventData) []string {
		return []string{"at revisions 2-3 with revision 4", "whether the append landed as asked is unknown",
			"finds the events there as appended", "retry with the same event IDs"}
	})
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(1), eventstore.Any()} {
		if rev := storetest.MustAppend(t, s, "wrongrev", exp, es...); rev != 3 {
			t.Fatalf("the retry with %v: revision %d, want 3", exp, rev)
		}
	}
	if got := ids(t, s, "wrongrev"); len(got) != 4 || !slices.Equal(got[2:], idsOf(es)) {
		t.Fatalf("the stream holds %d events, want the batch once after 2", len(got))
	}
}

// faulted starts a server, opens a store on it with the fault tests'
// timeout, appends n events (returned) to stream and sets fault.
func faulted(t *testing.T, fault esdbtest.Fault, stream string, n int) (*esdbtest.Server, *Store, []eventstore.EventData) {
	t.Helper()
	srv := esdbtest.Start(t)
	s := openStore(t, srv.URI(), eventstore.Config{Timeout: faultTimeout})
	es := storetest.Events("E", n)
	storetest.MustAppend(t, s, stream, eventstore.NoStream(), es...)
	srv.SetFault(fault)
	return srv, s, es
}

// appendUnder appends two events to stream on a fresh server, sets fault
// and appends two more (the batch it returns) with Exact(1), which must
// fail within the timeout with ErrBadAnswer saying what says(batch) lists.
func appendUnder(t *testing.T, fault esdbtest.Fault, stream string, says func([]eventstore.EventData) []string) (*esdbtest.Server, *Store, []eventstore.EventData) {
	t.Helper()
	srv, s, _ := faulted(t, fault, stream, 2)
	es := storetest.Events("E", 2)
	start := time.Now()
	_, err := s.Append(context.Background(), stream, eventstore.Exact(1), es...)
	faulttest.WantBounded(t, "Append", start, faultTimeout, err, srv.URI(), ErrBadAnswer)
	wantSays(t, err, says(es)...)
	return srv, s, es
}

// TestChangedEventIDs: the server stores events under other IDs than it is
// sent. The append that meets it fails with ErrBadAnswer saying so, naming
// both IDs; a retry of it is refused too, rather than storing the batch
// again, and so is a retry once the server keeps IDs again (its stored
// events keep the changed ones). New events append as before.
func TestChangedEventIDs(t *testing.T) {
	srv, s, es := appendUnder(t, esdbtest.ChangedIDs, "changed", func(es []eventstore.EventData) []string {
		return []string{"does not keep event IDs as given", "where event " + es[0].ID.String() + " was appended"}
	})
	ctx := context.Background()
	for _, fault := range []esdbtest.Fault{esdbtest.ChangedIDs, esdbtest.None} {
		srv.SetFault(fault)
		for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(1), eventstore.Any()} {
			start := time.Now()
			_, err := s.Append(ctx, "changed", exp, es...)
			faulttest.WantBounded(t, fmt.Sprintf("retry with %v under %v", exp, fault), start, faultTimeout, err, srv.URI(), ErrBadAnswer)
			wantSays(t, err, "does not keep event IDs as given")
		}
	}
	if got := ids(t, s, "changed"); len(got) != 4 {
		t.Fatalf("the stream holds %d events, want 4: the batch once", len(got))
	}
	storetest.MustAppend(t, s, "changed", eventstore.Exact(3), storetest.Events("E", 1)...)
}

// TestStringUUIDsOnly: a server that accepts event IDs only as strings
// refuses every append of the client, which sends them structured; the
// store says so, naming the server and quoting its refusal, and appends
// nothing. Reads, answered with string IDs, work.
func TestStringUUIDsOnly(t *testing.T) {
	srv, s, es := faulted(t, esdbtest.StringUUIDsOnly, "strings", 2)
	held := srv.Events()
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(1), eventstore.Any()} {
		start := time.Now()
		_, err := s.Append(context.Background(), "strings", exp, storetest.Events("E", 1)...)
		faulttest.WantBounded(t, fmt.Sprintf("Append with %v", exp), start, faultTimeout, err, srv.URI(), ErrBadAnswer)
		wantSays(t, err, "refused the event IDs", "structured UUID", "cannot send the string form", esdbtest.StringUUIDsOnlyMessage)
	}
	if srv.Events() != held {
		t.Fatalf("the server holds %d events, %d before the refused appends", srv.Events(), held)
	}
	if got := ids(t, s, "strings"); !slices.Equal(got, idsOf(es)) {
		t.Fatalf("read back %v, want %v", got, idsOf(es))
	}
}

// TestWithoutGuardTheClientExits shows what the guard prevents: a child
// process reads an event without created through the bare client; with
// the guard off the client ends the process (log.Fatalf, exit status 1),
// with it on the read fails and the process goes on.
func TestWithoutGuardTheClientExits(t *testing.T) {
	for _, tc := range []struct {
		role     string
		exitCode int
		output   string
	}{
		{"noguard", 1, "Failed to parse created date"},
		{"guard", 0, "read failed: "},
	} {
		t.Run(tc.role, func(t *testing.T) {
			code, out := child(t, tc.role)
			if code != tc.exitCode || !strings.Contains(out, tc.output) {
				t.Fatalf("child %s exited with %d, output:\n%s\nwant exit status %d and %q", tc.role, code, out, tc.exitCode, tc.output)
			}
		})
	}
}

// child runs the test binary as a child process in role (see TestMain) and
// returns its exit status and output.
func child(t *testing.T, role string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

// runChild runs a child role of TestWithoutGuardTheClientExits: the bare
// client reads an event the double sends without created.
func runChild(role string) error {
	guardOff.Store(role == "noguard")
	srv, err := esdbtest.Listen()
	if err != nil {
		return err
	}
	defer srv.Close()
	conf, err := esdb.ParseConnectionString(srv.URI())
	if err != nil {
		return err
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.AppendToStream(ctx, "child", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "E", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}); err != nil {
		return err
	}
	srv.SetFault(esdbtest.NoCreated)
	rs, err := c.ReadStream(ctx, "child", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		return err
	}
	defer rs.Close()
	_, err = rs.Recv()
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("the read of an event without created returned %v", err)
	}
	fmt.Println("read failed:", err)
	return nil
}
