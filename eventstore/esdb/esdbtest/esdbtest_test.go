package esdbtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// These tests speak to the double through the bare v4 client, checking
// that it answers as the real server does in what the backend relies on.

func client(t *testing.T, s *Server) *esdb.Client {
	t.Helper()
	return clientAt(t, s.URI())
}

// clientAt is a client of the connection string uri.
func clientAt(t *testing.T, uri string) *esdb.Client {
	t.Helper()
	conf, err := esdb.ParseConnectionString(uri)
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func event(typ string) esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{"a":1}`), Metadata: []byte(`{"m":2}`)}
}

func appendTo(t *testing.T, c *esdb.Client, stream string, exp esdb.ExpectedRevision, es ...esdb.EventData) (uint64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, es...)
	if err != nil {
		return 0, err
	}
	return r.NextExpectedVersion, nil
}

func readStream(t *testing.T, c *esdb.Client, stream string) ([]*esdb.RecordedEvent, error) {
	t.Helper()
	rs, err := c.ReadStream(context.Background(), stream, esdb.ReadStreamOptions{}, 1000)
	if err != nil {
		t.Fatalf("ReadStream reported %v before the first Recv", err)
	}
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, re.OriginalEvent())
	}
}

func wantWrong(t *testing.T, err error, got string) {
	t.Helper()
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeWrongExpectedVersion || !strings.Contains(err.Error(), "but got '"+got+"'") {
		t.Fatalf("error %v, want WrongExpectedVersion with current %s", err, got)
	}
}

func TestExpectedRevisions(t *testing.T) {
	c := client(t, Start(t))
	a, b := event("A"), event("B")
	if rev, err := appendTo(t, c, "s", esdb.NoStream{}, a); err != nil || rev != 0 {
		t.Fatalf("NoStream on a new stream: %d, %v", rev, err)
	}
	// The same event again with the same expectation: a repeat.
	if rev, err := appendTo(t, c, "s", esdb.NoStream{}, a); err != nil || rev != 0 {
		t.Fatalf("repeat with NoStream: %d, %v", rev, err)
	}
	_, err := appendTo(t, c, "s", esdb.NoStream{}, b)
	wantWrong(t, err, "0")
	_, err = appendTo(t, c, "s", esdb.Revision(3), b)
	wantWrong(t, err, "0")
	_, err = appendTo(t, c, "missing", esdb.StreamExists{}, b)
	wantWrong(t, err, "no_stream")
	_, err = appendTo(t, c, "missing", esdb.Revision(0), b)
	wantWrong(t, err, "no_stream")
	if rev, err := appendTo(t, c, "s", esdb.Revision(0), b); err != nil || rev != 1 {
		t.Fatalf("Revision(0): %d, %v", rev, err)
	}
	// A partial repeat at an exact revision is refused.
	_, err = appendTo(t, c, "s", esdb.NoStream{}, a, event("C"))
	wantWrong(t, err, "1")
	if rev, err := appendTo(t, c, "s", esdb.StreamExists{}, event("C")); err != nil || rev != 2 {
		t.Fatalf("StreamExists: %d, %v", rev, err)
	}
}

// TestIdempotencyWindow: with Any, a repeat is recognised only while its
// IDs are recent; the server appends it again once they are not.
func TestIdempotencyWindow(t *testing.T) {
	c := client(t, Start(t, WithIdempotencyWindow(4)))
	batch := []esdb.EventData{event("A"), event("B")}
	if _, err := appendTo(t, c, "w", esdb.Any{}, batch...); err != nil {
		t.Fatal(err)
	}
	if rev, err := appendTo(t, c, "w", esdb.Any{}, batch...); err != nil || rev != 1 {
		t.Fatalf("a recent repeat with Any: %d, %v; want a no-op at 1", rev, err)
	}
	_, err := appendTo(t, c, "w", esdb.Any{}, batch[0], event("X"))
	wantWrong(t, err, "1") // a partial repeat: "corrupted idempotency"
	for range 4 {
		if _, err := appendTo(t, c, "w", esdb.Any{}, event("Later")); err != nil {
			t.Fatal(err)
		}
	}
	if rev, err := appendTo(t, c, "w", esdb.Any{}, batch...); err != nil || rev != 7 {
		t.Fatalf("an old repeat with Any: %d, %v; want it appended again, at 6 and 7", rev, err)
	}
}

// TestRead: StreamNotFound comes with the first Recv, not ReadStream; every
// recorded event has the metadata the client needs.
func TestRead(t *testing.T) {
	c := client(t, Start(t))
	if _, err := readStream(t, c, "missing"); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("reading a missing stream: %v, want ResourceNotFound", err)
	}
	e := event("Typed")
	before := time.Now()
	if _, err := appendTo(t, c, "r", esdb.NoStream{}, e); err != nil {
		t.Fatal(err)
	}
	got, err := readStream(t, c, "r")
	if err != nil || len(got) != 1 {
		t.Fatalf("read %d events, %v", len(got), err)
	}
	r := got[0]
	for _, k := range []string{"created", "type", "content-type"} {
		if r.SystemMetadata[k] == "" {
			t.Errorf("recorded event lacks %s metadata: %v", k, r.SystemMetadata)
		}
	}
	if r.EventID != e.EventID || r.EventType != "Typed" || r.ContentType != "application/json" || string(r.Data) != `{"a":1}` ||
		string(r.UserMetadata) != `{"m":2}` || r.StreamID != "r" || r.EventNumber != 0 {
		t.Errorf("recorded event %+v does not match %+v", r, e)
	}
	if r.CreatedDate.Before(before.Add(-time.Second)) || r.CreatedDate.After(time.Now().Add(time.Second)) {
		t.Errorf("created %v, not about now", r.CreatedDate)
	}
}

// TestSubscribeToAll: a filtered catch-up subscription confirms, sends the
// matching events, then CaughtUp, then what is appended afterwards.
func TestSubscribeToAll(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		var opts []Option
		if legacy {
			opts = append(opts, WithoutCaughtUp())
		}
		c := client(t, Start(t, opts...))
		for _, s := range []string{"p-1", "q-1", "p-2"} {
			if _, err := appendTo(t, c, s, esdb.Any{}, event("E")); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		sub, err := c.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: esdb.Start{}, Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"p-"}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for len(got) < 4 {
			ev := sub.Recv()
			switch {
			case ev.SubscriptionDropped != nil:
				t.Fatal(ev.SubscriptionDropped.Error)
			case ev.EventAppeared != nil:
				got = append(got, ev.EventAppeared.OriginalEvent().StreamID)
			case ev.CaughtUp != nil && !legacy, ev.CheckPointReached != nil && legacy:
				got = append(got, "live")
				if _, err := appendTo(t, c, "p-3", esdb.Any{}, event("E")); err != nil {
					t.Fatal(err)
				}
			}
		}
		if want := "p-1 p-2 live p-3"; strings.Join(got, " ") != want {
			t.Errorf("legacy %v: subscription sent %v, want %s", legacy, got, want)
		}
		sub.Close()
		cancel()
	}
}

// TestSubscribeToStream: a catch-up subscription to a stream confirms, and
// sends the events from Start, or after revision n from Revision(n) (n
// itself excluded, as the real server does), then CaughtUp, then what is
// appended afterwards; a stream with no events yet, or not enough, is waited
// for.
func TestSubscribeToStream(t *testing.T) {
	c := client(t, Start(t))
	if _, err := appendTo(t, c, "s", esdb.NoStream{}, event("E0"), event("E1"), event("E2")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := []struct {
		stream string
		from   esdb.StreamPosition
		want   string // revisions before CaughtUp, "live", revisions after
	}{
		{"s", esdb.Start{}, "0 1 2 live 3 4"},
		{"s", esdb.Revision(0), "1 2 live 3 4"},
		{"s", esdb.Revision(2), "live 3 4"},
		{"s", esdb.Revision(3), "live 4"},
		{"s", esdb.End{}, "live 3 4"},
		{"new", esdb.Start{}, "live 0 1"},
		{"new", esdb.Revision(0), "live 1"},
	}
	type sub struct {
		s    *esdb.Subscription
		want string
		got  []string
	}
	var subs []*sub
	for _, tc := range cases {
		s, err := c.SubscribeToStream(ctx, tc.stream, esdb.SubscribeToStreamOptions{From: tc.from})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs = append(subs, &sub{s: s, want: tc.stream + " from " + fmt.Sprint(tc.from) + ": " + tc.want})
	}
	recv := func(x *sub, until string) {
		for !strings.HasSuffix(strings.Join(x.got, " "), until) {
			ev := x.s.Recv()
			switch {
			case ev.SubscriptionDropped != nil:
				t.Fatal(ev.SubscriptionDropped.Error)
			case ev.EventAppeared != nil:
				x.got = append(x.got, fmt.Sprint(ev.EventAppeared.OriginalEvent().EventNumber))
			case ev.CaughtUp != nil:
				x.got = append(x.got, "live")
			}
		}
	}
	for _, x := range subs {
		recv(x, "live")
	}
	for _, stream := range []string{"s", "new"} {
		for range 2 {
			if _, err := appendTo(t, c, stream, esdb.Any{}, event("Later")); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, x := range subs {
		_, want, _ := strings.Cut(x.want, ": ")
		recv(x, want[strings.LastIndexByte(want, ' ')+1:])
		if got := strings.Join(x.got, " "); got != want {
			t.Errorf("%s: got %s", x.want, got)
		}
	}
}

func TestMaxAppendSize(t *testing.T) {
	c := client(t, Start(t))
	e := event("Big")
	e.Data = make([]byte, maxAppendSize+1)
	if _, err := appendTo(t, c, "big", esdb.Any{}, e); err == nil || !strings.Contains(err.Error(), "Maximum Append Size") {
		t.Fatalf("an append over 1 MiB: %v", err)
	}
}

// TestForeignServerFeatures: an empty features answer leaves the client
// unable to connect (it cannot parse the missing version); one with a
// version and no methods is accepted.
func TestForeignServerFeatures(t *testing.T) {
	c := clientAt(t, Start(t, WithFault(EmptyFeatures)).URI()+"&maxDiscoverAttempts=1")
	if _, err := appendTo(t, c, "f", esdb.Any{}, event("E")); err == nil || !strings.Contains(err.Error(), "invalid EventStoreDB server version format") {
		t.Fatalf("append to a server with empty features: %v, want the client's version error", err)
	}
	c = client(t, Start(t, WithFault(EmptyMethodList)))
	if _, err := appendTo(t, c, "f", esdb.Any{}, event("E")); err != nil {
		t.Fatalf("append to a server with an empty method list: %v", err)
	}
}

// TestForeignServerReads: the stream-position faults make the client's
// ReadStream.Recv panic, at the start of the read or after its last event.
func TestForeignServerReads(t *testing.T) {
	for _, tc := range []struct {
		fault  Fault
		before int // events the read yields before the panic
	}{{FirstStreamPosition, 0}, {LastStreamPosition, 2}} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			srv := Start(t)
			c := client(t, srv)
			if _, err := appendTo(t, c, "p", esdb.NoStream{}, event("A"), event("B")); err != nil {
				t.Fatal(err)
			}
			srv.SetFault(tc.fault)
			n := 0
			func() {
				defer func() {
					if r := recover(); r != "unreachable code" {
						t.Fatalf("recovered %v, want the client's panic", r)
					}
				}()
				got, err := readStream(t, c, "p")
				t.Fatalf("the read returned %d events, %v, without panicking", len(got), err)
			}()
			rs, err := c.ReadStream(context.Background(), "p", esdb.ReadStreamOptions{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			func() {
				defer func() { recover() }()
				for {
					if _, err := rs.Recv(); err != nil {
						t.Fatalf("Recv: %v, want a panic", err)
					}
					n++
				}
			}()
			if n != tc.before {
				t.Fatalf("%d events before the panic, want %d", n, tc.before)
			}
		})
	}
}

// TestForeignServerAppends: WrongAppendRevision stores and answers one past
// the last revision; ChangedIDs stores other IDs, and recognises a repeat
// by them; StringUUIDsOnly refuses the client's structured IDs and answers
// reads with string ones.
func TestForeignServerAppends(t *testing.T) {
	srv := Start(t)
	c := client(t, srv)
	srv.SetFault(WrongAppendRevision)
	if rev, err := appendTo(t, c, "w", esdb.NoStream{}, event("A"), event("B")); err != nil || rev != 2 {
		t.Fatalf("append of 2 events under WrongAppendRevision: revision %d, %v; want 2 (one past the last)", rev, err)
	}
	if got, err := readStream(t, c, "w"); err != nil || len(got) != 2 {
		t.Fatalf("read back %d events, %v; want 2", len(got), err)
	}

	srv.SetFault(ChangedIDs)
	e := event("A")
	if _, err := appendTo(t, c, "c", esdb.NoStream{}, e); err != nil {
		t.Fatal(err)
	}
	got, err := readStream(t, c, "c")
	if err != nil || len(got) != 1 || got[0].EventID != guidOrder(e.EventID) || got[0].EventID == e.EventID {
		t.Fatalf("read back %v, %v; want the event with its ID in .NET byte order", got, err)
	}
	if rev, err := appendTo(t, c, "c", esdb.NoStream{}, e); err != nil || rev != 0 {
		t.Fatalf("a repeat: revision %d, %v; want the no-op at 0", rev, err)
	}

	srv.SetFault(StringUUIDsOnly)
	if _, err := appendTo(t, c, "s", esdb.NoStream{}, event("A")); err == nil || !strings.Contains(err.Error(), StringUUIDsOnlyMessage) {
		t.Fatalf("append of a structured ID: %v, want %q", err, StringUUIDsOnlyMessage)
	}
	if got, err := readStream(t, c, "c"); err != nil || len(got) != 1 || got[0].EventID != guidOrder(e.EventID) {
		t.Fatalf("read with string IDs: %v, %v", got, err)
	}
}
