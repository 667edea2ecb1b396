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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// Run runs the conformance suite as subtests of t. open is called once per
// subtest and returns a store for it; it should register with t.Cleanup
// whatever releasing the store needs (closing it, removing its files). The
// Close subtest closes its store itself, and so do some subtests of the
// Subscriber capability, so open's cleanup must tolerate a store already
// closed. opts add what some subtests need (see Reopen).
func Run(t *testing.T, open func(t *testing.T) eventstore.Store, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
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
		{"EarlyBreak", func(t *testing.T, s eventstore.Store, p string) { testEarlyBreak(t, s, p, &cfg) }},
		{"Cancel", testCancel},
		{"CancelDuringRead", testCancelDuringRead},
		{"Streams", testStreams},
		{"ConcurrentExact", testConcurrentExact},
		{"LargeRead", testLargeRead},
		{"Close", testClose},
		{"InvalidAppend", testInvalidAppend},
		{"RefusalsNumbered", testRefusalsNumbered},
		{"Cache", testCache},
		{"Subscribe", testSubscribe},
		{"SubscribeFrom", testSubscribeFrom},
		{"SubscribeNewStream", testSubscribeNewStream},
		{"SubscribeCancel", testSubscribeCancel},
		{"SubscribeEarlyBreak", func(t *testing.T, s eventstore.Store, p string) { testSubscribeEarlyBreak(t, s, p, &cfg) }},
		{"SubscribeClose", testSubscribeClose},
		{"SubscribeConcurrent", testSubscribeConcurrent},
		{"SubscribeOtherStore", func(t *testing.T, s eventstore.Store, p string) { testSubscribeOtherStore(t, s, p, cfg.reopen) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			own(t)
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tc.run(t, s, prefix(t))
		})
	}
}

// Option adds to what Run knows about the backend.
type Option func(*config)

type config struct {
	reopen    func(t *testing.T, s eventstore.Store) eventstore.Store
	openReads func(s eventstore.Store) int
}

// Reopen tells Run how to open a second store on the same backing store as
// s, which open returned: the same file, the same server. The subtests
// that check that a store sees what another one appends use it and are
// skipped without it. reopen should register closing the second store with
// t.Cleanup, as open does.
func Reopen(reopen func(t *testing.T, s eventstore.Store) eventstore.Store) Option {
	return func(c *config) { c.reopen = reopen }
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

// Events returns count new events of type typ, each with its own ID and
// small JSON payloads, for a backend's own tests too.
func Events(typ string, count int) []eventstore.EventData {
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

// MustAppend appends es to stream with exp and returns the revision of the
// last, failing t on an error.
func MustAppend(t testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, es ...eventstore.EventData) uint64 {
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
	es := Events("Tested", 3)
	wantRevision(t, "Append(Any) to a new stream", MustAppend(t, s, stream, eventstore.Any(), es[0]), 0)
	wantRevision(t, "Append(Any) of 2 events", MustAppend(t, s, stream, eventstore.Any(), es[1:]...), 2)
	wantStream(t, s, stream, es)
}

func testAppendNoStream(t *testing.T, s eventstore.Store, p string) {
	stream := p + "nostream"
	es := Events("Tested", 3)
	wantRevision(t, "Append(NoStream) of 2 events to a new stream", MustAppend(t, s, stream, eventstore.NoStream(), es[:2]...), 1)
	_, err := s.Append(context.Background(), stream, eventstore.NoStream(), es[2])
	wantWrong(t, err, stream, eventstore.NoStream(), 2)
	wantStream(t, s, stream, es[:2])
}

func testAppendStreamExists(t *testing.T, s eventstore.Store, p string) {
	stream := p + "exists"
	es := Events("Tested", 3)
	_, err := s.Append(context.Background(), stream, eventstore.StreamExists(), es[0])
	wantWrong(t, err, stream, eventstore.StreamExists(), 0)
	wantNotFound(t, s, stream)
	MustAppend(t, s, stream, eventstore.Any(), es[0])
	wantRevision(t, "Append(StreamExists) of 2 events", MustAppend(t, s, stream, eventstore.StreamExists(), es[1:]...), 2)
	wantStream(t, s, stream, es)
}

func testAppendExact(t *testing.T, s eventstore.Store, p string) {
	stream := p + "exact"
	es := Events("Tested", 4)
	ctx := context.Background()
	// Exact(0) means "the last event is revision 0": a new stream has none.
	_, err := s.Append(ctx, stream, eventstore.Exact(0), es[0])
	wantWrong(t, err, stream, eventstore.Exact(0), 0)
	wantNotFound(t, s, stream)

	MustAppend(t, s, stream, eventstore.NoStream(), es[0])
	wantRevision(t, "Append(Exact(0))", MustAppend(t, s, stream, eventstore.Exact(0), es[1]), 1)
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Exact(0), eventstore.Exact(2), eventstore.Exact(7), eventstore.Exact(math.MaxUint64)} {
		_, err := s.Append(ctx, stream, exp, es[2])
		wantWrong(t, err, stream, exp, 2)
	}
	wantRevision(t, "Append(Exact(1)) of 2 events", MustAppend(t, s, stream, eventstore.Exact(1), es[2:]...), 3)
	wantStream(t, s, stream, es)
}

// testAtomicBatch checks that a refused batch leaves nothing behind, whether
// it is refused for its revision or for an event in its middle.
func testAtomicBatch(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	stream, other := p+"atomic", p+"other"
	es := Events("Tested", 2)
	MustAppend(t, s, stream, eventstore.NoStream(), es...)

	batch := Events("Refused", 5)
	_, err := s.Append(ctx, stream, eventstore.Exact(0), batch...)
	wantWrong(t, err, stream, eventstore.Exact(0), 2)
	wantStream(t, s, stream, es)

	// The last event's ID is taken by another stream: the first four
	// must not land either.
	taken := event("Taken", 0)
	MustAppend(t, s, other, eventstore.NoStream(), taken)
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
	wantRevision(t, "Append of the refused batch", MustAppend(t, s, stream, eventstore.Exact(1), batch...), 6)
	wantStream(t, s, stream, append(es, batch...))
	wantStream(t, s, other, []eventstore.EventData{taken})
}

func testIdempotentRepeat(t *testing.T, s eventstore.Store, p string) {
	stream := p + "idem"
	ctx := context.Background()
	first := Events("First", 2)
	second := Events("Second", 3)
	wantRevision(t, "first append", MustAppend(t, s, stream, eventstore.NoStream(), first...), 1)
	wantRevision(t, "second append", MustAppend(t, s, stream, eventstore.Exact(1), second...), 4)

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
	first := Events("First", 2)
	second := Events("Second", 2)
	MustAppend(t, s, stream, eventstore.NoStream(), first...)
	MustAppend(t, s, stream, eventstore.Exact(1), second...)
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
	es := Events("Stored", 3)
	MustAppend(t, s, stream, eventstore.NoStream(), es...)
	fresh := Events("Fresh", 2)
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
	wantRevision(t, "Append of the fresh events", MustAppend(t, s, stream, eventstore.Exact(2), fresh...), 4)
}

func testDuplicateInOtherStream(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	a, b := p+"a", p+"b"
	es := Events("Tested", 2)
	MustAppend(t, s, a, eventstore.NoStream(), es...)
	MustAppend(t, s, b, eventstore.NoStream(), event("Other", 0))
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
	MustAppend(t, s, stream, eventstore.NoStream(), event("Tested", 0))
	if _, err := s.Append(ctx, stream, eventstore.Exact(0)); !errors.Is(err, eventstore.ErrEmptyAppend) {
		t.Fatalf("Append(Exact(0)) without events to an existing stream: error = %v, want ErrEmptyAppend", err)
	}
	if got := readAll(t, s, stream, 0); len(got) != 1 {
		t.Fatalf("%s holds %d events, want 1", stream, len(got))
	}
}

func testReadFrom(t *testing.T, s eventstore.Store, p string) {
	stream := p + "from"
	es := Events("Tested", 10)
	// Several batches, so that reading from the middle crosses them.
	MustAppend(t, s, stream, eventstore.NoStream(), es[:3]...)
	MustAppend(t, s, stream, eventstore.Exact(2), es[3:7]...)
	MustAppend(t, s, stream, eventstore.Exact(6), es[7:]...)
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
	MustAppend(t, s, p+"missing-not", eventstore.Any(), event("Tested", 0))
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
	MustAppend(t, s, stream, eventstore.NoStream(), want[:3]...)
	for _, e := range want[3:] {
		MustAppend(t, s, stream, eventstore.Any(), e)
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
	// What the caller does with the bytes it appended changes nothing
	// stored.
	given := slices.Clone(es)
	for i := range es {
		es[i].Data, es[i].Metadata = bytes.Clone(es[i].Data), bytes.Clone(es[i].Metadata)
	}
	MustAppend(t, s, stream, eventstore.NoStream(), given...)
	for i := range given {
		given[i].Data[0], given[i].Metadata[0] = 'X', 'Y'
	}
	got := readAll(t, s, stream, 0)
	// Read again, so that anything shared with a later read is overwritten.
	readAll(t, s, stream, 0)
	if len(got) != len(es) {
		t.Fatalf("read %d events, want %d", len(got), len(es))
	}
	for i := range got {
		wantEvent(t, got[i], stream, uint64(i), es[i])
	}
	// Appending to one event's bytes, or writing into them, changes no
	// other bytes: not its other field's, not its neighbours', not the
	// store's. (It used to write into every event and check only the
	// store's, which events sharing bytes with each other would pass.)
	for i := 0; i < len(got); i += 2 {
		// One byte, which lands in the spare capacity if there is any,
		// and in what follows if that is someone else's.
		_ = append(got[i].Data, 'z')
		_ = append(got[i].Metadata, 'z')
		wantEvent(t, got[i], stream, uint64(i), es[i])
		for j := range got[i].Data {
			got[i].Data[j] = 'x'
		}
		for j := range got[i].Metadata {
			got[i].Metadata[j] = 'y'
		}
	}
	for i := 1; i < len(got); i += 2 {
		wantEvent(t, got[i], stream, uint64(i), es[i])
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
	MustAppend(t, s, stream, eventstore.NoStream(), Events("Tested", 2)...)
	time.Sleep(5 * time.Millisecond)
	MustAppend(t, s, stream, eventstore.Any(), event("Tested", 2))
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

// testEarlyBreak: stopping a Read early releases what it held, however
// often: many early stops leave the store holding no more goroutines or
// open reads than before (see OpenReads), and working.
func testEarlyBreak(t *testing.T, s eventstore.Store, p string, cfg *config) {
	stream := p + "break"
	// Longer than a backend's read-ahead is likely to be, so that a read
	// the backend did not end would block and stay, holding what it holds.
	const total = 600
	es := Events("Tested", total)
	MustAppend(t, s, stream, eventstore.NoStream(), es...)
	stop := func(round int) {
		from, n := round%5, 0
		for e, err := range s.Read(context.Background(), stream, uint64(from)) {
			if err != nil {
				t.Fatal(err)
			}
			wantEvent(t, e, stream, uint64(from+n), es[from+n])
			if n++; n == 3 {
				break
			}
		}
		if n != 3 {
			t.Fatalf("round %d: read %d events before breaking, want 3", round, n)
		}
	}
	stop(0)
	leaks := cfg.watchLeaks(t, s)
	for round := range leakRounds {
		stop(round)
	}
	leaks.check(t, fmt.Sprintf("after %d early stops of Read", leakRounds))
	more := Events("More", 2)
	wantRevision(t, "Append after early stops", MustAppend(t, s, stream, eventstore.Exact(total-1), more...), total+1)
	wantStream(t, s, stream, append(es, more...))
}

func testCancel(t *testing.T, s eventstore.Store, p string) {
	stream := p + "cancel"
	MustAppend(t, s, stream, eventstore.NoStream(), event("Tested", 0))
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
		MustAppend(t, s, stream, eventstore.Any(), Events("Tested", 500)...)
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
		MustAppend(t, s, p+name, eventstore.NoStream(), Events("Tested", n)...)
	}
	other := prefix(t)
	MustAppend(t, s, other+"a", eventstore.NoStream(), event("Tested", 0))
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
	MustAppend(t, s, p+"a", eventstore.Exact(0), Events("More", 4)...)
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
		es := Events("Large", batch)
		for i := range es {
			es[i].Data = fmt.Appendf(nil, `{"n":%d,"text":"clause text of some length, as a draft would have"}`, len(want)+i)
		}
		exp := eventstore.NoStream()
		if len(want) > 0 {
			exp = eventstore.Exact(uint64(len(want) - 1))
		}
		wantRevision(t, "Append of a batch", MustAppend(t, s, stream, exp, es...), uint64(len(want)+batch-1))
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
	MustAppend(t, s, stream, eventstore.NoStream(), event("Tested", 0))
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

// testRefusalsNumbered: every backend words a refused batch alike
// (eventstore.CheckBatch and eventstore.CheckRepeat), naming the event at
// fault by its place in the batch counted from 1.
func testRefusalsNumbered(t *testing.T, s eventstore.Store, p string) {
	ctx := context.Background()
	stream := p + "numbered"
	stored, other := event("Stored", 0), event("Other", 0)
	MustAppend(t, s, stream, eventstore.NoStream(), stored)
	MustAppend(t, s, p+"other", eventstore.NoStream(), other)
	first, second := event("New", 1), event("New", 2)
	nilID := event("New", 3)
	nilID.ID = uuid.Nil
	cases := []struct {
		name  string
		batch []eventstore.EventData
		want  error
		names string
	}{
		{"second event with the nil ID", []eventstore.EventData{first, nilID}, eventstore.ErrInvalid, "event 2 of the batch"},
		{"third event without a type", []eventstore.EventData{first, second, event("", 3)}, eventstore.ErrInvalid, "event 3 of the batch"},
		{"second event's type not UTF-8", []eventstore.EventData{first, event("Bad\xff", 3)}, eventstore.ErrInvalid, "event 2 of the batch"},
		{"first ID again third", []eventstore.EventData{first, second, first}, eventstore.ErrDuplicateEvent, "events 1 and 3"},
		{"second event stored", []eventstore.EventData{first, stored}, eventstore.ErrDuplicateEvent, "event 2 of the batch"},
		{"third event stored in another stream", []eventstore.EventData{first, second, other}, eventstore.ErrDuplicateEvent, "event 3 of the batch"},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, stream, eventstore.Any(), c.batch...)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.names) {
			t.Errorf("%s: error = %v, want %v naming %q", c.name, err, c.want, c.names)
		}
	}
	wantStream(t, s, stream, []eventstore.EventData{stored})
	wantRevision(t, "Append of the refused batches' new events", MustAppend(t, s, stream, eventstore.Exact(0), first, second), 2)
}

// testCache: stores that keep a cache beside the log (eventstore.Cache)
// answer as Cache says, and never show cache entries as events.
func testCache(t *testing.T, s eventstore.Store, p string) {
	c, ok := s.(eventstore.Cache)
	if !ok {
		t.Skip("this store keeps no cache (it does not implement eventstore.Cache)")
	}
	Cache(t, c, p)
	streams, err := s.Streams(context.Background(), p)
	if err != nil || len(streams) != 0 {
		t.Fatalf("cache entries show as streams: %v, %v", streams, err)
	}
	wantNotFound(t, s, p+"k")
}

// Cache checks c, a store's cache or one kept elsewhere, under keys that
// start with p: it returns what was put, replaced by a second put, reports
// absent keys as nil, lists keys by prefix in byte order, deletes absent
// keys without an error, and keeps its own bytes.
func Cache(t *testing.T, c eventstore.Cache, p string) {
	t.Helper()
	ctx := context.Background()
	if v, err := c.CacheGet(ctx, p+"absent"); err != nil || v != nil {
		t.Fatalf("absent key: %q, %v", v, err)
	}
	big := make([]byte, 3<<20+12345) // megabytes, as a long negotiation's checkpoints, in no round size
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
	keys, err = c.CacheKeys(ctx, p)
	if want := []string{p + "j", p + "k", p + "k2", p + "kk"}; err != nil || !slices.Equal(keys, want) {
		t.Fatalf("after one delete, CacheKeys(%q) = %q, %v; want %q", p, keys, err, want)
	}

	// The cache keeps its own bytes: what the caller does with the bytes
	// it put, or got, changes nothing cached.
	mine := []byte("mine")
	if err := c.CachePut(ctx, p+"k", mine); err != nil {
		t.Fatal(err)
	}
	mine[0] = 'X'
	for range 2 {
		got, err := c.CacheGet(ctx, p+"k")
		if err != nil || string(got) != "mine" {
			t.Fatalf("CacheGet after the caller changed the bytes it put or got: %q, %v; want %q", got, err, "mine")
		}
		got[0] = 'Y'
	}
	// Nor does a later call change the bytes an earlier one returned:
	// readers keep them (a checkpoint's prefix index is searched where it
	// was read).
	first, err := c.CacheGet(ctx, p+"k")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CachePut(ctx, p+"k", []byte("more")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CacheGet(ctx, p+"k"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CacheGet(ctx, p+"kk"); err != nil {
		t.Fatal(err)
	}
	if string(first) != "mine" {
		t.Fatalf("a value CacheGet returned became %q after later puts and gets; want %q", first, "mine")
	}
}

// Bounds of the Subscriber subtests. subWait only bounds a failing test: a
// healthy store delivers long before. quietFor is how long a subscription
// that should yield nothing is watched; promptly is how soon a
// subscription must end once its context is done or its store closed.
const (
	subWait         = 15 * time.Second
	quietFor        = 150 * time.Millisecond
	promptly        = 3 * time.Second
	noSubscriberMsg = "this store cannot follow a stream (it does not implement eventstore.Subscriber)"
)

// subscriber returns s as an eventstore.Subscriber, skipping t when it is
// not one.
func subscriber(t *testing.T, s eventstore.Store) eventstore.Subscriber {
	t.Helper()
	sub, ok := s.(eventstore.Subscriber)
	if !ok {
		t.Skip(noSubscriberMsg)
	}
	return sub
}

// subItem is one thing a subscription yielded.
type subItem struct {
	ev  eventstore.RecordedEvent
	err error
}

// follower is a subscription running on a goroutine of its own, handing
// over what it yields.
type follower struct {
	stream string
	items  chan subItem
	done   chan struct{} // closed once the iteration has ended
	cancel context.CancelFunc
}

// follow subscribes to stream from revision from on a goroutine of its own;
// the subscription is cancelled, and waited for, when t ends.
func follow(t *testing.T, sub eventstore.Subscriber, stream string, from uint64) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{stream: stream, items: make(chan subItem, 64), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(f.done)
		for e, err := range sub.Subscribe(ctx, stream, from) {
			select {
			case f.items <- subItem{e, err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-f.done:
		case <-time.After(promptly):
			t.Errorf("the subscription to %s still runs %s after its context was cancelled", stream, promptly)
		}
	})
	return f
}

// next returns the next item the subscription yields, failing t when none
// comes within subWait or the subscription ends.
func (f *follower) next(t *testing.T) subItem {
	t.Helper()
	select {
	case it := <-f.items:
		return it
	case <-f.done:
		select {
		case it := <-f.items:
			return it
		default:
		}
		t.Fatalf("the subscription to %s ended without an error", f.stream)
	case <-time.After(subWait):
		t.Fatalf("the subscription to %s yielded nothing for %s", f.stream, subWait)
	}
	return subItem{}
}

// expect checks that the subscription yields want next, at revisions from
// on, and no error.
func (f *follower) expect(t *testing.T, from uint64, want []eventstore.EventData) {
	t.Helper()
	for i, w := range want {
		it := f.next(t)
		if it.err != nil {
			t.Fatalf("the subscription to %s yielded the error %v where revision %d was due", f.stream, it.err, from+uint64(i))
		}
		wantEvent(t, it.ev, f.stream, from+uint64(i), w)
	}
}

// quiet checks that the subscriptions fs yield nothing, and go on, for a
// while.
func quiet(t *testing.T, fs ...*follower) {
	t.Helper()
	time.Sleep(quietFor)
	for _, f := range fs {
		select {
		case it := <-f.items:
			if it.err != nil {
				t.Fatalf("the subscription to %s yielded the error %v, want it to wait", f.stream, it.err)
			}
			t.Fatalf("the subscription to %s yielded revision %d, want nothing yet", f.stream, it.ev.Revision)
		case <-f.done:
			t.Fatalf("the subscription to %s ended, want it to wait", f.stream)
		default:
		}
	}
}

// testSubscribe: a subscription yields the events stored, then those
// appended later, in order, each once.
func testSubscribe(t *testing.T, s eventstore.Store, p string) {
	sub := subscriber(t, s)
	stream := p + "sub"
	es := Events("Tested", 9)
	MustAppend(t, s, stream, eventstore.NoStream(), es[:3]...)
	MustAppend(t, s, stream, eventstore.Exact(2), es[3:5]...)
	f := follow(t, sub, stream, 0)
	f.expect(t, 0, es[:5])
	quiet(t, f)
	MustAppend(t, s, stream, eventstore.Exact(4), es[5])
	f.expect(t, 5, es[5:6])
	MustAppend(t, s, stream, eventstore.Exact(5), es[6:8]...)
	MustAppend(t, s, stream, eventstore.Exact(7), es[8])
	f.expect(t, 6, es[6:])
	// Appends elsewhere, and a repeat that appends nothing, yield nothing.
	MustAppend(t, s, p+"sub-other", eventstore.NoStream(), event("Other", 0))
	wantRevision(t, "repeated append", MustAppend(t, s, stream, eventstore.Exact(7), es[8]), 8)
	quiet(t, f)
}

// testSubscribeFrom: a subscription starts at revision from, wherever that
// is: in the middle, at the end, or beyond it.
func testSubscribeFrom(t *testing.T, s eventstore.Store, p string) {
	sub := subscriber(t, s)
	stream := p + "sub-from"
	es := Events("Tested", 12)
	MustAppend(t, s, stream, eventstore.NoStream(), es[:4]...)
	MustAppend(t, s, stream, eventstore.Exact(3), es[4:6]...)
	froms := []uint64{1, 3, 5, 6, 9}
	fs := make([]*follower, len(froms))
	for i, from := range froms {
		fs[i] = follow(t, sub, stream, from)
		if from < 6 {
			fs[i].expect(t, from, es[from:6])
		}
	}
	quiet(t, fs...)
	MustAppend(t, s, stream, eventstore.Exact(5), es[6:8]...)
	MustAppend(t, s, stream, eventstore.Exact(7), es[8:]...)
	for i, from := range froms {
		start := max(from, 6)
		fs[i].expect(t, start, es[start:])
	}
}

// testSubscribeNewStream: subscribing to a stream without events waits for
// it, without an error, and then follows it.
func testSubscribeNewStream(t *testing.T, s eventstore.Store, p string) {
	sub := subscriber(t, s)
	stream := p + "later"
	f0 := follow(t, sub, stream, 0)
	f2 := follow(t, sub, stream, 2)
	quiet(t, f0, f2)
	// A stream whose name starts with this one's is another stream.
	MustAppend(t, s, stream+"-not", eventstore.NoStream(), event("Other", 0))
	quiet(t, f0)
	es := Events("Tested", 4)
	MustAppend(t, s, stream, eventstore.NoStream(), es[0])
	f0.expect(t, 0, es[:1])
	quiet(t, f2)
	MustAppend(t, s, stream, eventstore.Exact(0), es[1:]...)
	f0.expect(t, 1, es[1:])
	f2.expect(t, 2, es[2:])
}

// subResult is what a subscription followed on a goroutine yielded.
type subResult struct {
	n    int
	errs []error
}

// followWaiting follows stream from revision from on a goroutine, waits
// until the subscription has yielded want events and then a while more, so
// that it waits for the next; the channel brings what it yielded once it
// ends.
func followWaiting(t *testing.T, ctx context.Context, sub eventstore.Subscriber, stream string, from uint64, want int) <-chan subResult {
	t.Helper()
	live := make(chan struct{})
	ended := make(chan subResult, 1)
	go func() {
		var r subResult
		for _, err := range sub.Subscribe(ctx, stream, from) {
			if err != nil {
				r.errs = append(r.errs, err)
				continue
			}
			if r.n++; r.n == want {
				close(live)
			}
		}
		ended <- r
	}()
	select {
	case <-live:
	case r := <-ended:
		t.Fatalf("the subscription ended after %d events with errors %v", r.n, r.errs)
	case <-time.After(subWait):
		t.Fatalf("the subscription yielded no %d events within %s", want, subWait)
	}
	time.Sleep(quietFor) // let it wait
	return ended
}

// testSubscribeCancel: a subscription ends without an error once its
// context is done: before it starts, while it waits for events, and while
// it yields the events stored; it yields nothing after.
func testSubscribeCancel(t *testing.T, s eventstore.Store, p string) {
	sub := subscriber(t, s)
	stream := p + "sub-cancel"
	es := Events("Tested", 40)
	MustAppend(t, s, stream, eventstore.NoStream(), es...)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for e, err := range sub.Subscribe(ctx, stream, 0) {
		t.Fatalf("a subscription with a cancelled context yielded revision %d, error %v; want nothing", e.Revision, err)
	}

	// While it waits.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	ended := followWaiting(t, ctx, sub, stream, 30, 10)
	cancel()
	start := time.Now()
	select {
	case r := <-ended:
		if r.n != 10 || len(r.errs) > 0 {
			t.Fatalf("a subscription cancelled while it waited yielded %d events and errors %v, want 10 and none", r.n, r.errs)
		}
		t.Logf("ended %s after cancel", time.Since(start).Round(time.Millisecond))
	case <-time.After(promptly):
		t.Fatalf("a subscription cancelled while it waited still runs after %s", promptly)
	}

	// While it yields the events stored.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for e, err := range sub.Subscribe(ctx, stream, 0) {
		if err != nil {
			t.Fatalf("a subscription cancelled after %d events yielded the error %v, want none", n, err)
		}
		if n > 0 && ctx.Err() != nil {
			t.Fatalf("a subscription yielded revision %d after its context was cancelled", e.Revision)
		}
		wantEvent(t, e, stream, uint64(n), es[n])
		if n++; n == 5 {
			cancel()
		}
	}
	if n != 5 {
		t.Fatalf("a subscription cancelled after 5 events yielded %d", n)
	}
}

// testSubscribeEarlyBreak: breaking out of a subscription, while it yields
// stored events or once it waited, ends it: many of them leave the store
// holding no more goroutines or open reads than before (see OpenReads),
// and working, and closing it does not hang.
func testSubscribeEarlyBreak(t *testing.T, s eventstore.Store, p string, cfg *config) {
	sub := subscriber(t, s)
	stream := p + "sub-break"
	const stored, live = 5, 5
	es := Events("Tested", 30)
	MustAppend(t, s, stream, eventstore.NoStream(), es[:stored]...)
	ctx := context.Background()
	stop := func(round int) {
		from, n := uint64(round%4), 0
		for e, err := range sub.Subscribe(ctx, stream, from) {
			if err != nil {
				t.Fatal(err)
			}
			wantEvent(t, e, stream, from+uint64(n), es[from+uint64(n)])
			if n++; n == 1 {
				break
			}
		}
	}
	stop(0)
	leaks := cfg.watchLeaks(t, s)
	for round := range leakRounds {
		stop(round)
	}
	// Break at the first event appended after the subscription has
	// yielded the last one stored.
	for i := stored; i < stored+live; i++ {
		got := make(chan error, 2)
		go func() {
			for e, err := range sub.Subscribe(ctx, stream, uint64(i-1)) {
				if err == nil && e.ID != es[e.Revision].ID {
					err = fmt.Errorf("revision %d holds %s, want %s", e.Revision, e.ID, es[e.Revision].ID)
				}
				got <- err
				if err != nil || e.Revision == uint64(i) {
					break
				}
			}
		}()
		for _, what := range []string{"the last event stored", "the event appended"} {
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(subWait):
				t.Fatalf("a subscription from %d yielded nothing for %s where %s was due", i-1, subWait, what)
			}
			if what == "the last event stored" {
				MustAppend(t, s, stream, eventstore.Exact(uint64(i-1)), es[i])
			}
		}
	}
	leaks.check(t, fmt.Sprintf("after %d early breaks out of Subscribe", leakRounds+live))
	last := uint64(len(es) - 1)
	wantRevision(t, "Append after early breaks", MustAppend(t, s, stream, eventstore.Exact(stored+live-1), es[stored+live:]...), last)
	wantStream(t, s, stream, es)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close after subscriptions ended: %v", err)
		}
	case <-time.After(promptly):
		t.Fatalf("Close after subscriptions ended still runs after %s", promptly)
	}
}

// testSubscribeClose: closing the store ends a subscription that waits, at
// once, with at most one error (wrapping ErrClosed); subscribing to a
// closed store yields that error alone.
func testSubscribeClose(t *testing.T, s eventstore.Store, p string) {
	sub := subscriber(t, s)
	stream := p + "sub-close"
	MustAppend(t, s, stream, eventstore.NoStream(), Events("Tested", 2)...)
	ended := followWaiting(t, context.Background(), sub, stream, 0, 2)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	start := time.Now()
	select {
	case r := <-ended:
		if r.n != 2 || len(r.errs) > 1 || len(r.errs) == 1 && !errors.Is(r.errs[0], eventstore.ErrClosed) {
			t.Fatalf("a subscription ended by Close yielded %d events and errors %v, want 2 and at most ErrClosed", r.n, r.errs)
		}
		t.Logf("ended %s after Close with errors %v", time.Since(start).Round(time.Millisecond), r.errs)
	case <-time.After(promptly):
		t.Fatalf("a subscription still runs %s after Close", promptly)
	}
	var errs []error
	for e, err := range sub.Subscribe(context.Background(), stream, 0) {
		if err == nil {
			t.Fatalf("a subscription to a closed store yielded revision %d", e.Revision)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrClosed) {
		t.Fatalf("a subscription to a closed store yielded errors %v, want ErrClosed once", errs)
	}
}

// testSubscribeConcurrent: while writers append concurrently, a
// subscription started before the stream exists and one started midway
// yield every event exactly once, in revision order.
func testSubscribeConcurrent(t *testing.T, s eventstore.Store, p string) {
	sub := subscriber(t, s)
	stream := p + "sub-race"
	const writers, appends = 4, 15
	early := follow(t, sub, stream, 0)
	var (
		wg      sync.WaitGroup
		errs    = make(chan error, writers)
		started = make(chan struct{})
		once    sync.Once
		total   int
	)
	for i := range appends {
		total += writers * (i%3 + 1) // batches of 1, 2 and 3 events, in turn
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range appends {
				batch := Events(fmt.Sprintf("Writer%d", w), i%3+1)
				if _, err := s.Append(context.Background(), stream, eventstore.Any(), batch...); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				if i == appends/2 {
					once.Do(func() { close(started) })
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-started:
	case <-finished: // a writer failed early
	}
	midway := follow(t, sub, stream, 0)
	<-finished
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := readAll(t, s, stream, 0)
	if len(stored) != total {
		t.Fatalf("the stream holds %d events, want %d", len(stored), total)
	}
	for _, f := range []*follower{early, midway} {
		for i, want := range stored {
			it := f.next(t)
			if it.err != nil {
				t.Fatalf("the subscription yielded the error %v where revision %d was due", it.err, i)
			}
			if it.ev.Revision != uint64(i) || it.ev.ID != want.ID {
				t.Fatalf("the subscription yielded revision %d (%s) where revision %d (%s) was due", it.ev.Revision, it.ev.ID, i, want.ID)
			}
		}
		quiet(t, f)
	}
}

// testSubscribeOtherStore: a subscription sees what another store on the
// same backing store appends (another process, as far as the store can
// tell), and the other way round.
func testSubscribeOtherStore(t *testing.T, s eventstore.Store, p string, reopen func(*testing.T, eventstore.Store) eventstore.Store) {
	sub := subscriber(t, s)
	if reopen == nil {
		t.Skip("Run was not told how to open a second store on the same backing store (storetest.Reopen)")
	}
	s2 := reopen(t, s)
	sub2 := subscriber(t, s2)
	stream := p + "sub-shared"
	es := Events("Tested", 6)
	f1 := follow(t, sub, stream, 0)
	quiet(t, f1)
	MustAppend(t, s2, stream, eventstore.NoStream(), es[:2]...)
	f1.expect(t, 0, es[:2])
	f2 := follow(t, sub2, stream, 1)
	f2.expect(t, 1, es[1:2])
	MustAppend(t, s, stream, eventstore.Exact(1), es[2:4]...)
	f1.expect(t, 2, es[2:4])
	f2.expect(t, 2, es[2:4])
	MustAppend(t, s2, stream, eventstore.Exact(3), es[4:]...)
	f1.expect(t, 4, es[4:])
	f2.expect(t, 4, es[4:])
}
