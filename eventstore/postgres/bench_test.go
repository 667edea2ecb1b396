package postgres

import (
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

func benchAppend(b *testing.B, batch int) {
	storetest.BenchAppendIDs(b, func(b *testing.B) eventstore.Store { return benchStore(b) }, batch)
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
	storetest.BenchFill(b, s, total)
	storetest.BenchRead(b, s, total)
}
