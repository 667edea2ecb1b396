package projections

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
	_ "github.com/treaty-engine/treaty/eventstore/sqlite"
)

// benchStorePath names the store TREATY_BENCH_STORE (a negotiation written
// by `treaty simulate`), or skips: these benchmarks measure real sizes,
// which take a while to write.
func benchStorePath(b *testing.B) string {
	path := os.Getenv("TREATY_BENCH_STORE")
	if path == "" {
		b.Skip("set TREATY_BENCH_STORE to a store written by `treaty simulate`")
	}
	return path
}

// benchStore opens the store benchStorePath names.
func benchStore(b *testing.B) (eventstore.Store, string) {
	path := benchStorePath(b)
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
	var live uint64
	for b.Loop() {
		m, err := NewReader(store, treaty, false).Head(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.State.Events), "events")
		// What the state holds once the fold's garbage is gone: the
		// memory a replay needs, whatever the number of events.
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live = max(live, ms.HeapAlloc)
		runtime.KeepAlive(m)
	}
	b.ReportMetric(float64(live)/(1<<20), "MiB-live-state")
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
	b.Run("encode-loaded", func(b *testing.B) {
		// The usual case: a state read from a checkpoint, saved again.
		var s domain.State
		if err := s.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
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

// BenchmarkHeadCheckpoint opens the store and reads the negotiation now from
// its checkpoint, as every command does first.
func BenchmarkHeadCheckpoint(b *testing.B) {
	path := benchStorePath(b)
	for b.Loop() {
		s, err := eventstore.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := NewReader(s, "simulation", true).Head(context.Background()); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkRedlinesRounds opens the store and redlines round 1 against the
// last round, as `treaty diff --from round:1 --to round:N` does.
func BenchmarkRedlinesRounds(b *testing.B) {
	path := benchStorePath(b)
	for b.Loop() {
		s, err := eventstore.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		r := NewReader(s, "simulation", true)
		head, err := r.Head(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		to, _ := ParseRef(fmt.Sprintf("round:%d", len(head.State.Rounds)))
		from, _ := ParseRef("round:1")
		if _, err := r.Redlines(context.Background(), from, to, false); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkVerify replays and checks the whole log (chain, signatures,
// rules), as `treaty verify` does.
func BenchmarkVerify(b *testing.B) {
	store, treaty := benchStore(b)
	events := 0
	for b.Loop() {
		v, err := Verify(context.Background(), store, treaty, VerifyOptions{})
		if err != nil || !v.OK {
			b.Fatal(err, v.Problem)
		}
		events += v.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
