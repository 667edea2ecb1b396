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
// store, for each kind of storetest.BenchIDs.
func benchAppend(b *testing.B, batch int) {
	storetest.BenchAppendIDs(b, func(b *testing.B) eventstore.Store { return benchStore(b) }, batch)
}

// BenchmarkAppendSingle appends one event per call; each is fsynced.
func BenchmarkAppendSingle(b *testing.B) { benchAppend(b, 1) }

// BenchmarkAppendBatch100 appends 100 events per call.
func BenchmarkAppendBatch100(b *testing.B) { benchAppend(b, 100) }

// BenchmarkAppendBatch1000 appends 1,000 events per call.
func BenchmarkAppendBatch1000(b *testing.B) { benchAppend(b, 1000) }

// fillBench appends total events to one stream of a new store.
func fillBench(b *testing.B, total int) *Store {
	s := benchStore(b)
	storetest.BenchFill(b, s, total)
	return s
}

// BenchmarkReadAll reads a stream of 100,000 events from start to end, again
// and again through one open store.
func BenchmarkReadAll(b *testing.B) {
	const total = 100_000
	storetest.BenchRead(b, fillBench(b, total), total)
}

// BenchmarkReadAllCold opens the store, reads the 100,000 events and closes
// it, as one run of the command line does: the first read of a process also
// pays for mapping the file and growing the heap.
func BenchmarkReadAllCold(b *testing.B) {
	const total = 100_000
	fill := fillBench(b, total)
	fill.Close() // checkpoints the WAL into the file, as a finished command would
	path := fill.Path()
	storetest.BenchReads(b, total, func() {
		s, err := Open(context.Background(), path, eventstore.Config{})
		if err != nil {
			b.Fatal(err)
		}
		storetest.BenchReadOnce(b, s, total)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	})
}
