package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), eventstore.Config{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchAppend appends b.N batches of batch events to one stream of a new
// store, each with the exact expected revision, and reports events/s, for
// each kind of storetest.BenchIDs.
func benchAppend(b *testing.B, batch int) {
	for _, ids := range storetest.BenchIDs {
		b.Run(ids.Name, func(b *testing.B) { storetest.BenchAppend(b, benchStore(b), batch, ids.New) })
	}
}

// BenchmarkAppendSingle appends one event per call; each is fsynced.
func BenchmarkAppendSingle(b *testing.B) { benchAppend(b, 1) }

// BenchmarkAppendBatch100 appends 100 events per call.
func BenchmarkAppendBatch100(b *testing.B) { benchAppend(b, 100) }

// BenchmarkAppendBatch1000 appends 1,000 events per call.
func BenchmarkAppendBatch1000(b *testing.B) { benchAppend(b, 1000) }

// fillBench appends total events to one stream of a new store, in batches of
// 1,000.
func fillBench(b *testing.B, total int) *Store {
	s := benchStore(b)
	for i := 0; i < total; i += 1000 {
		if _, err := s.Append(context.Background(), "treaty-bench", eventstore.Any(), storetest.BenchEvents(1000)...); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// readBench reads the whole bench stream and checks it is total events long.
func readBench(b *testing.B, s *Store, total int) {
	n := 0
	for e, err := range s.Read(context.Background(), "treaty-bench", 0) {
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

// BenchmarkReadAll reads a stream of 100,000 events from start to end, again
// and again through one open store.
func BenchmarkReadAll(b *testing.B) {
	const total = 100_000
	s := fillBench(b, total)
	b.SetBytes(storetest.BenchBytes(total))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		readBench(b, s, total)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadAllCold opens the store, reads the 100,000 events and closes
// it, as one run of the command line does: the first read of a process also
// pays for mapping the file and growing the heap.
func BenchmarkReadAllCold(b *testing.B) {
	const total = 100_000
	fill := fillBench(b, total)
	fill.Close() // checkpoints the WAL into the file, as a finished command would
	path := fill.Path()
	b.SetBytes(storetest.BenchBytes(total))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s, err := Open(context.Background(), path, eventstore.Config{})
		if err != nil {
			b.Fatal(err)
		}
		readBench(b, s, total)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}
