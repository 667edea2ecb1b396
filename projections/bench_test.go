package projections

import (
	"context"
	"os"
	"testing"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	_ "github.com/treaty-engine/treaty/eventstore/sqlite"
)

// benchStore opens the store named by TREATY_BENCH_STORE (a negotiation
// written by `treaty simulate`), or skips: these benchmarks measure real
// sizes, which take a while to write.
func benchStore(b *testing.B) (eventstore.Store, string) {
	path := os.Getenv("TREATY_BENCH_STORE")
	if path == "" {
		b.Skip("set TREATY_BENCH_STORE to a store written by `treaty simulate`")
	}
	s, err := eventstore.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, "simulation"
}

// BenchmarkFoldAll folds the whole negotiation without checkpoints: the cost
// a fresh process pays when no checkpoint helps.
func BenchmarkFoldAll(b *testing.B) {
	store, treaty := benchStore(b)
	for b.Loop() {
		m, err := NewReader(store, treaty, false).Head(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.State.Events), "events")
	}
}

// BenchmarkSnapshot encodes and decodes the state at head, the work of
// leaving and reading a checkpoint.
func BenchmarkSnapshot(b *testing.B) {
	store, treaty := benchStore(b)
	m, err := NewReader(store, treaty, false).Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	data, err := m.State.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.State.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data)), "bytes")
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			var s domain.State
			if err := s.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
