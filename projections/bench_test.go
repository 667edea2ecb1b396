package projections

import (
	"context"
	"crypto/ed25519"
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
	events := 0
	for b.Loop() {
		m, err := NewReader(store, treaty, Options{}).Head(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		events = m.State.Events
	}
	b.ReportMetric(float64(events), "events")
	// What the state holds once the fold's garbage is gone: the memory a
	// replay needs, whatever the number of events. Measured after the
	// timed loop, so that the collection is not timed.
	m, err := NewReader(store, treaty, Options{}).Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(m)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MiB-live-state")
}

// warmCheckpoints leaves, before the timed loop, the checkpoints this test
// binary (a build of its own, see the checkpoint package) reads: the head
// and every round's end. Otherwise the loop's first pass would time a
// replay of the whole history.
func warmCheckpoints(b *testing.B, path string) {
	s, err := eventstore.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := NewReader(s, "simulation", withCheckpoints)
	head, err := r.Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, rd := range head.State.Rounds {
		if _, err := r.At(context.Background(), Ref{kind: refRoundEnd, n: rd.Number, text: "warm"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeadCheckpoint opens the store and reads the negotiation now from
// its checkpoint, as every command does first.
func BenchmarkHeadCheckpoint(b *testing.B) {
	path := benchStorePath(b)
	warmCheckpoints(b, path)
	for b.Loop() {
		s, err := eventstore.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := NewReader(s, "simulation", withCheckpoints).Head(context.Background()); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkRedlinesRounds opens the store and redlines round 1 against the
// last round, as `treaty diff --from round:1 --to round:N` does.
func BenchmarkRedlinesRounds(b *testing.B) {
	path := benchStorePath(b)
	warmCheckpoints(b, path)
	for b.Loop() {
		s, err := eventstore.Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		r := NewReader(s, "simulation", withCheckpoints)
		head, err := r.Head(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		to, _ := ParseRef(fmt.Sprintf("round:%d", len(head.State.Rounds)))
		from, _ := ParseRef("round:1")
		if _, err := r.Redlines(context.Background(), from, to, CompareOptions{}); err != nil {
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

// BenchmarkTailCheck measures what checking the events a command folds past
// its checkpoint adds to folding them: for the last saveEvery events of the
// negotiation (as a command that far behind its checkpoint folds), each
// event's hash and its link to the event before (domain.CheckLink), and its
// signature, as checkedFold checks them, on as many cores as it uses. The
// fold itself (decoding, Evolve) is the same with or without the check.
func BenchmarkTailCheck(b *testing.B) {
	store, treaty := benchStore(b)
	ctx := context.Background()
	var total int
	for _, st := range must(store.Streams(ctx, Stream(treaty))) {
		total = int(st.Events)
	}
	const tail = saveEvery
	var recs []*Recorded
	var keys []ed25519.PublicKey
	prev := ""
	for rec, err := range Events(ctx, store, treaty, total-tail-1) {
		if err != nil {
			b.Fatal(err)
		}
		m, _ := rec.Meta()
		if prev == "" {
			prev = m.Hash // the event just before the tail
			continue
		}
		recs = append(recs, rec)
		var pub ed25519.PublicKey
		if m.Signature != "" {
			// The key that signed it, from the log's registrations.
			pub = signerOf(b, store, treaty, m.Key)
		}
		keys = append(keys, pub)
	}
	for b.Loop() {
		f := &checkedFold{prev: domain.Meta{Hash: prev}}
		for i, rec := range recs {
			r := *rec
			hash, err := f.link(&r)
			if err != nil {
				b.Fatal(err)
			}
			if keys[i] != nil {
				if f.sigs == nil {
					f.sigs = newSignatureChecks()
				}
				m, _ := r.Meta()
				f.sigs.check(&r, keys[i], hash, m.Signature, m.Party)
			}
			f.prev, _ = r.Meta()
		}
		if err := f.finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/tail-of-32")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// signerOf finds the public key with the given ID among the log's key
// registrations and pins.
func signerOf(b *testing.B, store eventstore.Store, treaty, id string) ed25519.PublicKey {
	for rec, err := range Events(context.Background(), store, treaty, 0) {
		if err != nil {
			b.Fatal(err)
		}
		if k, ok := rec.Event.(domain.PartyKeyRegistered); ok {
			if pub, err := domain.ParseKey(k.Key); err == nil && domain.KeyID(pub) == id {
				return pub
			}
		}
		if rec.Number > 10000 {
			break
		}
	}
	b.Fatalf("no key %s", id)
	return nil
}
