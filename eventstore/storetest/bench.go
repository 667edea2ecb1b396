package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// Every backend's benchmarks write the same payloads, the size of a typical
// treaty event (about 300 bytes of data and 150 of metadata), so that their
// figures compare.
var (
	BenchData = []byte(`{"proposal":"p-0001","clause":"c-12","text":"` + strings.Repeat("Статья 4. The Parties shall cooperate in good faith. ", 4)[:200] + `","round":3,"supersedes":null}`)
	BenchMeta = []byte(`{"party":"Republic of Examplia","author":"delegate-7","round":3,"time":"2025-11-26T14:57:00Z","schema":1,"client":"treaty/1.0"}`)
)

// BenchBytes is the size of n benchmark events.
func BenchBytes(n int) int64 { return int64(n * (len(BenchData) + len(BenchMeta))) }

// BenchEvents returns n events with the benchmark payloads and random IDs.
func BenchEvents(n int) []eventstore.EventData {
	es := make([]eventstore.EventData, n)
	for i := range es {
		es[i] = eventstore.EventData{ID: uuid.New(), Type: "ClauseProposed", Data: BenchData, Metadata: BenchMeta}
	}
	return es
}

// BenchIDs are the event IDs the append benchmarks compare: random
// (UUIDv4, uuid.New), which land all over a store's unique index of IDs, so
// that a batch dirties an index page per event, more as the store grows;
// and time-ordered (UUIDv7, uuid.NewV7, as treaty's write path makes
// them), which append to the index's end.
var BenchIDs = []struct {
	Name string
	New  func() uuid.UUID
}{
	{"random-v4", uuid.New},
	{"ordered-v7", func() uuid.UUID { return uuid.Must(uuid.NewV7()) }},
}

// BenchAppend appends b.N batches of batch events to one stream of s, each
// with the exact expected revision, and reports events/s. The events, with
// IDs from newID (nil: random), are made before the clock starts: the
// store's cost is wanted.
func BenchAppend(b *testing.B, s eventstore.Store, batch int, newID func() uuid.UUID) {
	ctx := context.Background()
	batches := make([][]eventstore.EventData, b.N)
	for i := range batches {
		batches[i] = BenchEvents(batch)
		for j := range batches[i] {
			if newID != nil {
				batches[i][j].ID = newID()
			}
		}
	}
	b.SetBytes(BenchBytes(batch))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		exp := eventstore.NoStream()
		if i > 0 {
			exp = eventstore.Exact(uint64(i*batch - 1))
		}
		if _, err := s.Append(ctx, BenchStream, exp, batches[i]...); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// BenchAppendIDs runs BenchAppend on a store from open for each kind of
// BenchIDs, as sub-benchmarks named after it.
func BenchAppendIDs(b *testing.B, open func(b *testing.B) eventstore.Store, batch int) {
	for _, ids := range BenchIDs {
		b.Run(ids.Name, func(b *testing.B) { BenchAppend(b, open(b), batch, ids.New) })
	}
}

// BenchStream is the stream the benchmarks write and read.
const BenchStream = "treaty-bench"

// BenchFill appends total benchmark events to BenchStream of s, in batches
// of 1,000.
func BenchFill(b *testing.B, s eventstore.Store, total int) {
	for i := 0; i < total; i += 1000 {
		if _, err := s.Append(context.Background(), BenchStream, eventstore.Any(), BenchEvents(min(1000, total-i))...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchReadOnce reads BenchStream of s from start to end and checks that
// it holds total events, in order.
func BenchReadOnce(b *testing.B, s eventstore.Store, total int) {
	n := 0
	for e, err := range s.Read(context.Background(), BenchStream, 0) {
		if err != nil {
			b.Fatal(err)
		}
		if e.Revision != uint64(n) {
			b.Fatalf("revision %d at %d", e.Revision, n)
		}
		n++
	}
	if n != total {
		b.Fatalf("read %d events, want %d", n, total)
	}
}

// BenchRead reads BenchStream of s, which holds total events, b.N times
// through s, and reports events/s.
func BenchRead(b *testing.B, s eventstore.Store, total int) {
	BenchReads(b, total, func() { BenchReadOnce(b, s, total) })
}

// BenchReads times b.N reads of total events, each by read, and reports
// events/s.
func BenchReads(b *testing.B, total int, read func()) {
	b.SetBytes(BenchBytes(total))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		read()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}
