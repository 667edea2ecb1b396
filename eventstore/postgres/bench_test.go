package postgres

import (
	"context"
	"testing"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// The benchmarks run against the server of TREATY_TEST_POSTGRES, each in a
// fresh database: on the same machine they measure the backend, pgx, the
// loopback and the server with its settings (fsync and synchronous_commit
// as that server has them). Their names and payloads match
// eventstore/sqlite's and eventstore/esdb's, so that the figures compare.

func benchStore(b *testing.B) *Store {
	b.Helper()
	return openStore(b, pgtest.Database(b), eventstore.Config{Create: true})
}

// benchAppend appends b.N batches of batch events to one stream of a new
// store, each with the exact expected revision, and reports events/s, for
// each kind of storetest.BenchIDs.
func benchAppend(b *testing.B, batch int) {
	for _, ids := range storetest.BenchIDs {
		b.Run(ids.Name, func(b *testing.B) { storetest.BenchAppend(b, benchStore(b), batch, ids.New) })
	}
}

// BenchmarkAppendSingle appends one event per call: a transaction each,
// committed.
func BenchmarkAppendSingle(b *testing.B) { benchAppend(b, 1) }

// BenchmarkAppendBatch100 appends 100 events per call.
func BenchmarkAppendBatch100(b *testing.B) { benchAppend(b, 100) }

// BenchmarkAppendBatch1000 appends 1,000 events per call.
func BenchmarkAppendBatch1000(b *testing.B) { benchAppend(b, 1000) }

// BenchmarkReadAll reads a stream of 100,000 events from start to end, again
// and again through one open store.
func BenchmarkReadAll(b *testing.B) {
	const total = 100_000
	s := benchStore(b)
	for i := 0; i < total; i += 1000 {
		if _, err := s.Append(context.Background(), "treaty-bench", eventstore.Any(), storetest.BenchEvents(1000)...); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(storetest.BenchBytes(total))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
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
	b.StopTimer()
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}
