// Package storetest is the conformance suite of eventstore: every backend
// runs Run unchanged, and a backend is correct when it passes.
//
// The suite must be able to run against a long-lived shared server: every
// subtest names its streams with a fresh random prefix, never assumes the
// store is empty, and lists only the streams of its own prefix. It must never
// test a backend's private behaviour; that belongs in the backend's own tests.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// Run runs the conformance suite as subtests of t. open is called once per
// subtest and returns a store for it; it should register with t.Cleanup
// whatever releasing the store needs (closing it, removing its files). The
// Close subtest closes its store itself, so open's cleanup must tolerate a
// store already closed.
func Run(t *testing.T, open func(t *testing.T) eventstore.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s eventstore.Store, p string)
	}{
		{"AppendAny", testAppendAny},
		{"AppendNoStream", testAppendNoStream},
		{"AppendStreamExists", testAppendStreamExists},
		{"AppendExact", testAppendExact},
		{"AtomicBatch", testAtomicBatch},
		{"IdempotentRepeat", testIdempotentRepeat},
		{"IdempotentRepeatWrongRevision", testIdempotentRepeatWrongRevision},
		{"PartialOverlap", testPartialOverlap},
		{"DuplicateInOtherStream", testDuplicateInOtherStream},
		{"EmptyAppend", testEmptyAppend},
		{"ReadFrom", testReadFrom},
		{"ReadNotFound", testReadNotFound},
		{"BytesPreserved", testBytesPreserved},
		{"EventsKept", testEventsKept},
		{"Created", testCreated},
		{"EarlyBreak", testEarlyBreak},
		{"Cancel", testCancel},
		{"CancelDuringRead", testCancelDuringRead},
		{"Streams", testStreams},
		{"ConcurrentExact", testConcurrentExact},
		{"LargeRead", testLargeRead},
		{"Close", testClose},
		{"InvalidAppend", testInvalidAppend},
		{"Cache", testCache},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.run(t, s, prefix(t))
		})
	}
}

// prefix returns a stream-name prefix no other run uses: "st-<8 hex>-".
func prefix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "st-" + hex.EncodeToString(b) + "-"
}

// event returns a new event with its own ID and small JSON payloads.
func event(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.New(),
		Type:     typ,
		Data:     fmt.Appendf(nil, `{"n":%d,"text":"clause %d"}`, n, n),
		Metadata: fmt.Appendf(nil, `{"party":"storetest","n":%d}`, n),
	}
}

func events(typ string, count int) []eventstore.EventData {
	es := make([]eventstore.EventData, count)
	for i := range es {
		es[i] = event(typ, i)
	}
	return es
}

// read is the result of draining a Read: the events in the order yielded,
// and the errors yielded (in order), and how many times yield was called
// after the first error.
type read struct {
	events     []eventstore.RecordedEvent
	errs       []error
	afterError int
}

func drain(ctx context.Context, s eventstore.Store, stream string, from uint64) read {
	var r read
	for e, err := range s.Read(ctx, stream, from) {
		if len(r.errs) > 0 {
			r.afterError++
		}
		if err != nil {
			r.errs = append(r.errs, err)
			continue
		}
		r.events = append(r.events, e)
	}
	return r
}

// readAll reads stream from revision from, failing t on any error.
func readAll(t *testing.T, s eventstore.Store, stream string, from uint64) []eventstore.RecordedEvent {
	t.Helper()
	r := drain(context.Background(), s, stream, from)
	if len(r.errs) > 0 {
		t.Fatalf("Read(%s, %d): %v", stream, from, r.errs[0])
	}
	return r.events
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, es ...eventstore.EventData) uint64 {
	t.Helper()
	rev, err := s.Append(context.Background(), stream, exp, es...)
	if err != nil {
		t.Fatalf("Append(%s, %v, %d events): %v", stream, exp, len(es), err)
	}
	return rev
}

func wantRevision(t *testing.T, what string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Fatalf("%s returned revision %d, want %d", what, got, want)
	}
}

// wantWrong checks that err reports ErrWrongExpectedRevision for stream, with
// the number of events the stream holds.
func wantWrong(t *testing.T, err error, stream string, exp eventstore.ExpectedRevision, holds uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Fatalf("Append(%s, %v) error = %v, want ErrWrongExpectedRevision", stream, exp, err)
	}
	var wr *eventstore.WrongRevisionError
	if !errors.As(err, &wr) {
		t.Fatalf("Append(%s, %v) error %v is not a *WrongRevisionError", stream, exp, err)
	}
	if wr.Stream != stream || wr.Expected != exp || wr.Events != holds {
		t.Fatalf("WrongRevisionError = {Stream: %q, Expected: %v, Events: %d}, want {%q, %v, %d}",
			wr.Stream, wr.Expected, wr.Events, stream, exp, holds)
	}
}

// wantStream checks that stream holds exactly the events want, in order, at
// revisions 0..len(want)-1, with IDs, types and bytes as appended.
func wantStream(t *testing.T, s eventstore.Store, stream string, want []eventstore.EventData) {
	t.Helper()
	if len(want) == 0 {
		wantNotFound(t, s, stream)
		return
	}
	got := readAll(t, s, stream, 0)
	if len(got) != len(want) {
		t.Fatalf("%s holds %d events, want %d", stream, len(got), len(want))
	}
	for i, e := range got {
		wantEvent(t, e, stream, uint64(i), want[i])
	}
}

func wantEvent(t *testing.T, got eventstore.RecordedEvent, stream string, rev uint64, want eventstore.EventData) {
	t.Helper()
	switch {
	case got.Stream != stream:
		t.Fatalf("event at revision %d has Stream %q, want %q", rev, got.Stream, stream)
	case got.Revision != rev:
		t.Fatalf("event %d has Revision %d", rev, got.Revision)
	case got.ID != want.ID:
		t.Fatalf("event %d has ID %s, want %s", rev, got.ID, want.ID)
	case got.Type != want.Type:
		t.Fatalf("event %d has Type %q, want %q", rev, got.Type, want.Type)
	case !bytes.Equal(got.Data, want.Data):
		t.Fatalf("event %d has Data %q, want %q", rev, got.Data, want.Data)
	case !bytes.Equal(got.Metadata, want.Metadata):
		t.Fatalf("event %d has Metadata %q, want %q", rev, got.Metadata, want.Metadata)
	}
}

func wantNotFound(t *testing.T, s eventstore.Store, stream string) {
	t.Helper()
	r := drain(context.Background(), s, stream, 0)
	if len(r.events) > 0 || len(r.errs) != 1 || r.afterError > 0 || !errors.Is(r.errs[0], eventstore.ErrStreamNotFound) {
		t.Fatalf("Read(%s) yielded %d events and errors %v (then %d more), want only ErrStreamNotFound", stream, len(r.events), r.errs, r.afterError)
	}
}

func testAppendAny(t *testing.T, s eventstore.Store, p string) {
	stream := p + "any"
	es := events("Tested", 3)
	wantRevision(t, "Append(Any) to a new stream", mustAppend(t, s, stream, eventstore.Any(), es[0]), 0)
	wantRevision(t, "Append(Any) of 2 events", mustAppend(t, s, stream, eventstore.Any(), es[1:]...), 2)
	wantStream(t, s, stream, es)
}

func testAppendNoStream(t *testing.T, s eventstore.Store, p string) {
	stream := p + "nostream"
	es := events("Tested", 3)
	wantRevision(t, "Append(NoStream) of 2 events to a new stream", mustAppend(t, s, stream, eventstore.NoStream(), es[:2]...), 1)
	_, err := s.Append(context.Background(), stream, eventstore.NoStream(), es[2])
	wantWrong(t, err, stream, eventstore.NoStream(), 2)
	wantStream(t, s, stream, es[:2])
}

func testAppendStreamExists(t *testing.T, s eventstore.Store, p string) {
	stream := p + "exists"
	es := events("Tested", 3)
	_, err := s.Append(context.Background(), stream, eventstore.StreamExists(), es[0])
	wantWrong(t, err, stream, eventstore.StreamExists(), 0)
	wantNotFound(t, s, stream)
	mustAppend(t, s, stream, eventstore.Any(), es[0])
	wantRevision(t, "Append(StreamExists) of 2 events", mustAppend(t, s, stream, eventstore.StreamExists(), es[1:]...), 2)
	wantStream(t, s, stream, es)
}

func testAppendExact(t *testing.T, s eventstore.Store, p string) {
	stream := p + "exact"
	es := events("Tested", 4)
	ctx := context.Background()
	// Exact(0) means "the last event is revision 0": a new stream has none.
	_, err := s.Append(ctx, stream, eventstore.Exact(0), es[0])
	wantWrong(t, err, stream, eventstore.Exact(0), 0)
	wantNotFound(t, s, stream)

	mustAppend(t, s, stream, eventstore.NoStream(), es[0])
	wantRevision(t, "Append(Exact(0))", mustAppend(t, s, stream, eventstore.Exact(0), es[1]), 1)
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(0), eventstore.Exact(2), eventstore.Exact(7), eventstore.Exact(math.MaxUint64)} {
		_, err := s.Append(ctx, stream, exp, es[2])
		wantWrong(t, err, stream, exp, 2)
	}
	wantRevision(t, "Append(Exact(1)) of 2 events", mustAppend(t, s, stream, eventstore.Exact(1), es[2:]...), 3)
	wantStream(t, s, stream, es)
}

// testAtomicBatch checks that a refused batch leaves nothing behind, whether
// it is refused for its revision or for an event in its middle.
func testAtomicBatch(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	stream, other := p+"atomic", p+"other"
	es := events("Tested", 2)
	mustAppend(t, s, stream, eventstore.NoStream(), es...)

	batch := events("Refused", 5)
	_, err := s.Append(ctx, stream, eventstore.Exact(0), batch...)
	wantWrong(t, err, stream, eventstore.Exact(0), 2)
	wantStream(t, s, stream, es)

	// The last event's ID is taken by another stream: the first four
	// must not land either.
	taken := event("Taken", 0)
	mustAppend(t, s, other, eventstore.NoStream(), taken)
	bad := append(slices.Clone(batch[:4]), taken)
	if _, err := s.Append(ctx, stream, eventstore.Exact(1), bad...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("batch whose last ID is stored in another stream: error = %v, want ErrDuplicateEvent", err)
	}
	wantStream(t, s, stream, es)
	if _, err := s.Append(ctx, p+"new", eventstore.Any(), bad...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("same batch to a new stream: error = %v, want ErrDuplicateEvent", err)
	}
	wantNotFound(t, s, p+"new")

	// The refused events' IDs were not consumed.
	wantRevision(t, "Append of the refused batch", mustAppend(t, s, stream, eventstore.Exact(1), batch...), 6)
	wantStream(t, s, stream, append(es, batch...))
	wantStream(t, s, other, []eventstore.EventData{taken})
}

func testIdempotentRepeat(t *testing.T, s eventstore.Store, p string) {
	stream := p + "idem"
	ctx := context.Background()
	first := events("First", 2)
	second := events("Second", 3)
	wantRevision(t, "first append", mustAppend(t, s, stream, eventstore.NoStream(), first...), 1)
	wantRevision(t, "second append", mustAppend(t, s, stream, eventstore.Exact(1), second...), 4)

	// Each batch repeated with the condition it was first appended with,
	// and with Any, is a no-op reporting the revision of its last event.
	repeats := []struct {
		batch []eventstore.EventData
		exp   eventstore.ExpectedRevision
		want  uint64
	}{
		{first, eventstore.NoStream(), 1},
		{first, eventstore.Any(), 1},
		{second, eventstore.Exact(1), 4},
		{second, eventstore.Any(), 4},
		{second, eventstore.StreamExists(), 4},
		{first[:1], eventstore.NoStream(), 0},
		{second[1:], eventstore.Any(), 4},
	}
	for _, r := range repeats {
		rev, err := s.Append(ctx, stream, r.exp, r.batch...)
		if err != nil {
			t.Fatalf("repeating a batch of %d with %v: %v", len(r.batch), r.exp, err)
		}
		wantRevision(t, fmt.Sprintf("repeating a batch of %d with %v", len(r.batch), r.exp), rev, r.want)
	}
	wantStream(t, s, stream, append(first, second...))
}

func testIdempotentRepeatWrongRevision(t *testing.T, s eventstore.Store, p string) {
	stream := p + "idem-wrong"
	ctx := context.Background()
	first := events("First", 2)
	second := events("Second", 2)
	mustAppend(t, s, stream, eventstore.NoStream(), first...)
	mustAppend(t, s, stream, eventstore.Exact(1), second...)
	// The second batch was appended after revision 1; a repeat claiming
	// any other revision is a writer that did not see the stream.
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(0), eventstore.Exact(3), eventstore.Exact(9), eventstore.NoStream()} {
		_, err := s.Append(ctx, stream, exp, second...)
		wantWrong(t, err, stream, exp, 4)
	}
	wantStream(t, s, stream, append(first, second...))
}

func testPartialOverlap(t *testing.T, s eventstore.Store, p string) {
	stream := p + "overlap"
	ctx := context.Background()
	es := events("Stored", 3)
	mustAppend(t, s, stream, eventstore.NoStream(), es...)
	fresh := events("Fresh", 2)
	cases := []struct {
		name  string
		batch []eventstore.EventData
	}{
		{"stored then new", []eventstore.EventData{es[1], es[2], fresh[0]}},
		{"new then stored", []eventstore.EventData{fresh[0], es[2]}},
		{"stored out of order", []eventstore.EventData{es[1], es[0]}},
		{"stored with a gap", []eventstore.EventData{es[0], es[2]}},
		{"stored with a new one between", []eventstore.EventData{es[0], fresh[1], es[1]}},
	}
	for _, c := range cases {
		for _, exp := range []eventstore.ExpectedRevision{eventstore.Any(), eventstore.Exact(2)} {
			if _, err := s.Append(ctx, stream, exp, c.batch...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Fatalf("%s with %v: error = %v, want ErrDuplicateEvent", c.name, exp, err)
			}
		}
	}
	wantStream(t, s, stream, es)
	// The refused new events can still be appended.
	wantRevision(t, "Append of the fresh events", mustAppend(t, s, stream, eventstore.Exact(2), fresh...), 4)
}

func testDuplicateInOtherStream(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	a, b := p+"a", p+"b"
	es := events("Tested", 2)
	mustAppend(t, s, a, eventstore.NoStream(), es...)
	mustAppend(t, s, b, eventstore.NoStream(), event("Other", 0))
	for _, target := range []string{b, p + "c"} {
		for _, exp := range []eventstore.ExpectedRevision{eventstore.Any(), eventstore.NoStream(), eventstore.StreamExists()} {
			if _, err := s.Append(ctx, target, exp, es...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Fatalf("appending %s's events to %s with %v: error = %v, want ErrDuplicateEvent", a, target, exp, err)
			}
		}
	}
	wantNotFound(t, s, p+"c")
	if got := readAll(t, s, b, 0); len(got) != 1 {
		t.Fatalf("%s holds %d events after refused appends, want 1", b, len(got))
	}
	wantStream(t, s, a, es)
}

func testEmptyAppend(t *testing.T, s eventstore.Store, p string) {
	stream := p + "empty"
	ctx := context.Background()
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Any(), eventstore.NoStream(), eventstore.StreamExists(), eventstore.Exact(0)} {
		if _, err := s.Append(ctx, stream, exp); !errors.Is(err, eventstore.ErrEmptyAppend) {
			t.Fatalf("Append(%v) without events: error = %v, want ErrEmptyAppend", exp, err)
		}
		if _, err := s.Append(ctx, stream, exp, []eventstore.EventData{}...); !errors.Is(err, eventstore.ErrEmptyAppend) {
			t.Fatalf("Append(%v) of an empty slice: error = %v, want ErrEmptyAppend", exp, err)
		}
	}
	wantNotFound(t, s, stream)
	mustAppend(t, s, stream, eventstore.NoStream(), event("Tested", 0))
	if _, err := s.Append(ctx, stream, eventstore.Exact(0)); !errors.Is(err, eventstore.ErrEmptyAppend) {
		t.Fatalf("Append(Exact(0)) without events to an existing stream: error = %v, want ErrEmptyAppend", err)
	}
	if got := readAll(t, s, stream, 0); len(got) != 1 {
		t.Fatalf("%s holds %d events, want 1", stream, len(got))
	}
}

func testReadFrom(t *testing.T, s eventstore.Store, p string) {
	stream := p + "from"
	es := events("Tested", 10)
	// Several batches, so that reading from the middle crosses them.
	mustAppend(t, s, stream, eventstore.NoStream(), es[:3]...)
	mustAppend(t, s, stream, eventstore.Exact(2), es[3:7]...)
	mustAppend(t, s, stream, eventstore.Exact(6), es[7:]...)
	for _, from := range []uint64{0, 1, 4, 7, 9} {
		got := readAll(t, s, stream, from)
		if len(got) != len(es)-int(from) {
			t.Fatalf("Read from %d yielded %d events, want %d", from, len(got), len(es)-int(from))
		}
		for i, e := range got {
			wantEvent(t, e, stream, from+uint64(i), es[int(from)+i])
		}
	}
	for _, from := range []uint64{10, 11, 1000, math.MaxInt64, math.MaxUint64} {
		r := drain(context.Background(), s, stream, from)
		if len(r.events) > 0 || len(r.errs) > 0 {
			t.Fatalf("Read from %d, beyond the end, yielded %d events and errors %v, want nothing", from, len(r.events), r.errs)
		}
	}
}

func testReadNotFound(t *testing.T, s eventstore.Store, p string) {
	wantNotFound(t, s, p+"missing")
	// Another stream sharing the name as a prefix does not make it exist.
	mustAppend(t, s, p+"missing-not", eventstore.Any(), event("Tested", 0))
	wantNotFound(t, s, p+"missing")
	r := drain(context.Background(), s, p+"missing", 5)
	if len(r.errs) != 1 || !errors.Is(r.errs[0], eventstore.ErrStreamNotFound) || len(r.events) > 0 {
		t.Fatalf("Read(missing, 5) yielded %d events and errors %v, want only ErrStreamNotFound", len(r.events), r.errs)
	}
}

func testBytesPreserved(t *testing.T, s eventstore.Store, p string) {
	stream := p + "bytes"
	payloads := []struct{ data, meta string }{
		{`{"text":"Статья 1. Стороны соглашаются…"}`, `{"party":"Российская Федерация","author":"Иван"}`},
		{`{"text":"emoji 🇺🇳🕊️ and \u00e9 escaped, é raw","zwj":"👩‍⚖️"}`, `{"round":1}`},
		{"{\n  \"indented\" : [ 1 , 2.50 , 1e10 ],\n\t\"keys\": {\"b\":1,\"a\":2}\n}\n", `{}`},
		{`{"quote":"\"","backslash":"\\","nul":"\u0000","tab":"\t"}`, `{"big":12345678901234567890123}`},
		{`"a string document"`, `null`},
		{`{"text":"中文条约 · العربية · עברית · ελληνικά"}`, ``},
	}
	var want []eventstore.EventData
	for i, pl := range payloads {
		e := eventstore.EventData{ID: uuid.New(), Type: fmt.Sprintf("Payload%d", i), Data: []byte(pl.data), Metadata: []byte(pl.meta)}
		want = append(want, e)
	}
	// Types are kept as given too.
	want = append(want, eventstore.EventData{ID: uuid.New(), Type: "Тип.события-v2 🙂", Data: []byte(`{}`), Metadata: []byte(`{}`)})
	mustAppend(t, s, stream, eventstore.NoStream(), want[:3]...)
	for _, e := range want[3:] {
		mustAppend(t, s, stream, eventstore.Any(), e)
	}
	got := readAll(t, s, stream, 0)
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i := range got {
		wantEvent(t, got[i], stream, uint64(i), want[i])
	}
	if len(got[5].Metadata) != 0 {
		t.Fatalf("empty metadata read back as %q", got[5].Metadata)
	}
}

// testEventsKept checks that the bytes Read yields stay valid after the
// iteration moves on and ends: callers keep them.
func testEventsKept(t *testing.T, s eventstore.Store, p string) {
	stream := p + "kept"
	es := make([]eventstore.EventData, 300)
	for i := range es {
		es[i] = event("Kept", i)
		// Payloads of varying length, so reused buffers would show.
		es[i].Data = fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, bytes.Repeat([]byte{'a' + byte(i%26)}, i%97))
	}
	mustAppend(t, s, stream, eventstore.NoStream(), es...)
	got := readAll(t, s, stream, 0)
	// Read again, so that anything shared with a later read is overwritten.
	readAll(t, s, stream, 0)
	if len(got) != len(es) {
		t.Fatalf("read %d events, want %d", len(got), len(es))
	}
	for i := range got {
		wantEvent(t, got[i], stream, uint64(i), es[i])
	}
	// Writing into one event's bytes changes no other event's.
	for i := range got {
		for j := range got[i].Data {
			got[i].Data[j] = 'x'
		}
		for j := range got[i].Metadata {
			got[i].Metadata[j] = 'y'
		}
	}
	for i, e := range readAll(t, s, stream, 0) {
		wantEvent(t, e, stream, uint64(i), es[i])
	}
}

func testCreated(t *testing.T, s eventstore.Store, p string) {
	stream := p + "created"
	// A server's clock may differ from ours; a minute is generous.
	const skew = time.Minute
	before := time.Now()
	mustAppend(t, s, stream, eventstore.NoStream(), events("Tested", 2)...)
	time.Sleep(5 * time.Millisecond)
	mustAppend(t, s, stream, eventstore.Any(), event("Tested", 2))
	after := time.Now()
	got := readAll(t, s, stream, 0)
	for i, e := range got {
		if e.Created.IsZero() {
			t.Fatalf("event %d has a zero Created", i)
		}
		if e.Created.Location() != time.UTC {
			t.Fatalf("event %d Created %v is not in UTC", i, e.Created)
		}
		if e.Created.Before(before.Add(-skew)) || e.Created.After(after.Add(skew)) {
			t.Fatalf("event %d Created %v, not between %v and %v", i, e.Created, before, after)
		}
		if i > 0 && e.Created.Before(got[i-1].Created.Add(-time.Second)) {
			t.Fatalf("event %d Created %v, well before event %d's %v", i, e.Created, i-1, got[i-1].Created)
		}
	}
}

func testEarlyBreak(t *testing.T, s eventstore.Store, p string) {
	stream := p + "break"
	es := events("Tested", 20)
	mustAppend(t, s, stream, eventstore.NoStream(), es...)
	// Many early stops: resources they leaked would pile up.
	for round := range 50 {
		n := 0
		for e, err := range s.Read(context.Background(), stream, uint64(round%5)) {
			if err != nil {
				t.Fatal(err)
			}
			wantEvent(t, e, stream, uint64(round%5+n), es[round%5+n])
			n++
			if n == 3 {
				break
			}
		}
		if n != 3 {
			t.Fatalf("round %d: read %d events before breaking, want 3", round, n)
		}
	}
	more := events("More", 2)
	wantRevision(t, "Append after early stops", mustAppend(t, s, stream, eventstore.Exact(19), more...), 21)
	wantStream(t, s, stream, append(es, more...))
}

func testCancel(t *testing.T, s eventstore.Store, p string) {
	stream := p + "cancel"
	mustAppend(t, s, stream, eventstore.NoStream(), event("Tested", 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, stream, eventstore.Any(), event("Cancelled", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: error = %v, want context.Canceled", err)
	}
	r := drain(ctx, s, stream, 0)
	if len(r.errs) != 1 || !errors.Is(r.errs[0], context.Canceled) || r.afterError > 0 {
		t.Fatalf("Read with a cancelled context yielded %d events and errors %v, want context.Canceled", len(r.events), r.errs)
	}
	if _, err := s.Streams(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("Streams with a cancelled context: error = %v, want context.Canceled", err)
	}
	if got := readAll(t, s, stream, 0); len(got) != 1 {
		t.Fatalf("%s holds %d events after a cancelled append, want 1", stream, len(got))
	}
}

func testCancelDuringRead(t *testing.T, s eventstore.Store, p string) {
	stream := p + "cancel-read"
	const total = 2000
	for i := 0; i < total; i += 500 {
		mustAppend(t, s, stream, eventstore.Any(), events("Tested", 500)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n int
	var last error
	for _, err := range s.Read(ctx, stream, 0) {
		if last != nil {
			t.Fatalf("Read yielded again after the error %v", last)
		}
		if err != nil {
			last = err
			continue
		}
		if n++; n == 10 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("Read cancelled after 10 of %d events ended with error %v after %d events, want context.Canceled", total, last, n)
	}
}

func testStreams(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	// Byte order: upper case sorts before lower case, and '%' and '_' are
	// no wildcards.
	counts := map[string]int{"b": 2, "a": 1, "c": 3, "B": 1, "a-1": 1, "_x": 1, "%y": 1, "é": 2}
	for name, n := range counts {
		mustAppend(t, s, p+name, eventstore.NoStream(), events("Tested", n)...)
	}
	other := prefix(t)
	mustAppend(t, s, other+"a", eventstore.NoStream(), event("Tested", 0))
	// A stream whose append was refused does not exist.
	_, err := s.Append(ctx, p+"refused", eventstore.StreamExists(), event("Refused", 0))
	wantWrong(t, err, p+"refused", eventstore.StreamExists(), 0)

	cases := []struct {
		prefix string
		want   []string
	}{
		{p, []string{"%y", "B", "_x", "a", "a-1", "b", "c", "é"}},
		{p + "a", []string{"a", "a-1"}},
		{p + "a-", []string{"a-1"}},
		{p + "_", []string{"_x"}},
		{p + "%", []string{"%y"}},
		{p + "é", []string{"é"}},
		{p + "c", []string{"c"}},
		{p + "d", nil},
		{p + "zz", nil},
	}
	for _, c := range cases {
		got, err := s.Streams(ctx, c.prefix)
		if err != nil {
			t.Fatalf("Streams(%q): %v", c.prefix, err)
		}
		var want []eventstore.StreamInfo
		for _, name := range c.want {
			want = append(want, eventstore.StreamInfo{Name: p + name, Events: uint64(counts[name])})
		}
		if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
			t.Fatalf("Streams(%q) = %v, want %v", c.prefix, got, want)
		}
	}
	mustAppend(t, s, p+"a", eventstore.Exact(0), events("More", 4)...)
	got, err := s.Streams(ctx, p+"a")
	if err != nil {
		t.Fatal(err)
	}
	if want := []eventstore.StreamInfo{{Name: p + "a", Events: 5}, {Name: p + "a-1", Events: 1}}; !slices.Equal(got, want) {
		t.Fatalf("Streams(%q) after appending = %v, want %v", p+"a", got, want)
	}
}

// head returns the number of events in stream, reading it.
func head(ctx context.Context, s eventstore.Store, stream string) (uint64, error) {
	var n uint64
	for _, err := range s.Read(ctx, stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// listed returns the number of events Streams reports for stream.
func listed(ctx context.Context, s eventstore.Store, stream string) (uint64, error) {
	infos, err := s.Streams(ctx, stream)
	if err != nil {
		return 0, err
	}
	for _, info := range infos {
		if info.Name == stream {
			return info.Events, nil
		}
	}
	return 0, nil
}

// testConcurrentExact has writers race for the same revisions with Exact:
// each revision is won by exactly one, and the stream ends gap-free holding
// every event once.
func testConcurrentExact(t *testing.T, s eventstore.Store, p string) {
	stream := p + "race"
	const writers, appends = 8, 15
	ctx := context.Background()
	var (
		mu       sync.Mutex
		won      = map[uint64]uuid.UUID{} // revision → the event that won it
		conflict int
		wg       sync.WaitGroup
		errs     = make(chan error, writers)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < appends; {
				n, err := head(ctx, s, stream)
				if err != nil {
					errs <- err
					return
				}
				exp := eventstore.NoStream()
				if n > 0 {
					exp = eventstore.Exact(n - 1)
				}
				e := event(fmt.Sprintf("Writer%d", w), i)
				rev, err := s.Append(ctx, stream, exp, e)
				if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
					mu.Lock()
					conflict++
					mu.Unlock()
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				mu.Lock()
				prev, dup := won[rev]
				won[rev] = e.ID
				mu.Unlock()
				if dup {
					errs <- fmt.Errorf("revision %d won twice: by %s and by %s", rev, prev, e.ID)
					return
				}
				if rev != n {
					errs <- fmt.Errorf("Append(%v) returned revision %d, want %d", exp, rev, n)
					return
				}
				i++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := readAll(t, s, stream, 0)
	if len(got) != writers*appends || len(won) != writers*appends {
		t.Fatalf("stream holds %d events and %d appends succeeded, want %d", len(got), len(won), writers*appends)
	}
	seen := map[uuid.UUID]bool{}
	for i, e := range got {
		if e.Revision != uint64(i) {
			t.Fatalf("event %d has revision %d: the stream has a gap", i, e.Revision)
		}
		if won[e.Revision] != e.ID || seen[e.ID] {
			t.Fatalf("revision %d holds %s, but %s won it (or it is stored twice)", i, e.ID, won[e.Revision])
		}
		seen[e.ID] = true
	}
	t.Logf("%d appends, %d conflicts", len(won), conflict)
}

func testLargeRead(t *testing.T, s eventstore.Store, p string) {
	stream := p + "large"
	const total, batch = 10000, 500
	var want []eventstore.EventData
	for len(want) < total {
		es := events("Large", batch)
		for i := range es {
			es[i].Data = fmt.Appendf(nil, `{"n":%d,"text":"clause text of some length, as a draft would have"}`, len(want)+i)
		}
		exp := eventstore.NoStream()
		if len(want) > 0 {
			exp = eventstore.Exact(uint64(len(want) - 1))
		}
		wantRevision(t, "Append of a batch", mustAppend(t, s, stream, exp, es...), uint64(len(want)+batch-1))
		want = append(want, es...)
	}
	got := readAll(t, s, stream, 0)
	if len(got) != total {
		t.Fatalf("read %d events, want %d", len(got), total)
	}
	for i := range got {
		wantEvent(t, got[i], stream, uint64(i), want[i])
	}
	n, err := listed(context.Background(), s, stream)
	if err != nil || n != total {
		t.Fatalf("Streams reports %d events (error %v), want %d", n, err, total)
	}
}

func testClose(t *testing.T, s eventstore.Store, p string) {
	stream := p + "close"
	mustAppend(t, s, stream, eventstore.NoStream(), event("Tested", 0))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, stream, eventstore.Any(), event("Late", 1)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Append after Close: error = %v, want ErrClosed", err)
	}
	r := drain(ctx, s, stream, 0)
	if len(r.events) > 0 || len(r.errs) != 1 || !errors.Is(r.errs[0], eventstore.ErrClosed) {
		t.Fatalf("Read after Close yielded %d events and errors %v, want ErrClosed", len(r.events), r.errs)
	}
	if _, err := s.Streams(ctx, p); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Streams after Close: error = %v, want ErrClosed", err)
	}
}

// testInvalidAppend: an empty stream name, a nil event ID or an empty type
// is refused with ErrInvalid and appends nothing.
func testInvalidAppend(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	if _, err := s.Append(ctx, "", eventstore.Any(), event("E", 0)); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("empty stream name: %v, want ErrInvalid", err)
	}
	nilID := event("E", 1)
	nilID.ID = uuid.Nil
	noType := event("", 2)
	for _, bad := range []eventstore.EventData{nilID, noType} {
		if _, err := s.Append(ctx, p+"invalid", eventstore.Any(), event("E", 3), bad); !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("append of %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if r := drain(ctx, s, p+"invalid", 0); len(r.events) != 0 {
		t.Fatalf("a refused batch left %d events", len(r.events))
	}
}

// testCache: stores that keep a cache beside the log (eventstore.Cache)
// return what was put, replace it on a second put, report absent keys as
// nil, and never show cache entries as events.
func testCache(t *testing.T, s eventstore.Store, p string) {
	c, ok := s.(eventstore.Cache)
	if !ok {
		t.Skip("this store keeps no cache (it does not implement eventstore.Cache)")
	}
	ctx := context.Background()
	if v, err := c.CacheGet(ctx, p+"absent"); err != nil || v != nil {
		t.Fatalf("absent key: %q, %v", v, err)
	}
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, v := range [][]byte{[]byte("first"), big, {}} {
		if err := c.CachePut(ctx, p+"k", v); err != nil {
			t.Fatal(err)
		}
		got, err := c.CacheGet(ctx, p+"k")
		if err != nil || !bytes.Equal(got, v) || got == nil {
			t.Fatalf("CacheGet after CachePut of %d bytes: %d bytes, %v", len(v), len(got), err)
		}
	}
	streams, err := s.Streams(ctx, p)
	if err != nil || len(streams) != 0 {
		t.Fatalf("cache entries show as streams: %v, %v", streams, err)
	}
	for _, k := range []string{"k2", "j", "k1", "kk"} {
		if err := c.CachePut(ctx, p+k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := c.CacheKeys(ctx, p+"k")
	if want := []string{p + "k", p + "k1", p + "k2", p + "kk"}; err != nil || !slices.Equal(keys, want) {
		t.Fatalf("CacheKeys(%q) = %q, %v; want %q", p+"k", keys, err, want)
	}
	if err := c.CacheDelete(ctx, p+"k1"); err != nil {
		t.Fatal(err)
	}
	if err := c.CacheDelete(ctx, p+"never"); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	if v, err := c.CacheGet(ctx, p+"k1"); err != nil || v != nil {
		t.Fatalf("deleted key still reads %q, %v", v, err)
	}
	if keys, _ := c.CacheKeys(ctx, p); len(keys) != 4 {
		t.Fatalf("after one delete, keys %q", keys)
	}
}
