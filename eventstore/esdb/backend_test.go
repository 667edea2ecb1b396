package esdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// runBackendTests runs the checks of what this backend adds to the server,
// against the server at uri: the double in TestBackend, a real server in
// TestServer.
func runBackendTests(t *testing.T, uri string) {
	tests := []struct {
		name string
		run  func(t *testing.T, uri, p string)
	}{
		{"RepeatLongAfter", testRepeatLongAfter},
		{"ConcurrentRepeat", testConcurrentRepeat},
		{"ConcurrentOtherStreams", testConcurrentOtherStreams},
		{"ReservedByIncompleteAppend", testReservedByIncompleteAppend},
		{"ReservedNames", testReservedNames},
		{"StreamsHidesReservations", testStreamsHidesReservations},
		{"ReadOnly", testReadOnly},
		{"SeveralStores", testSeveralStores},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, uri, testPrefix(t)) })
	}
}

// testPrefix returns a stream-name prefix no other run uses.
func testPrefix(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "esdb-" + hex.EncodeToString(b) + "-"
}

// ids reads stream and returns its event IDs in order (none when it does
// not exist).
func ids(t testing.TB, s eventstore.Store, stream string) []uuid.UUID {
	t.Helper()
	var out []uuid.UUID
	for e, err := range s.Read(context.Background(), stream, 0) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			t.Fatalf("Read(%s): %v", stream, err)
		}
		out = append(out, e.ID)
	}
	return out
}

// count returns the number of events in stream, reading it; it may run on
// any goroutine.
func count(s eventstore.Store, stream string) (uint64, error) {
	var n uint64
	for _, err := range s.Read(context.Background(), stream, 0) {
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

func idsOf(es []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// testRepeatLongAfter: a batch repeated with Any after many other events is
// still a no-op. A real server recognises such a repeat only while its IDs
// are in its cache of recent events (the double in TestBackend never does);
// the reservations find it however old it is.
func testRepeatLongAfter(t *testing.T, uri, p string) {
	s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	stream := p + "old"
	first := storetest.Events("First", 3)
	storetest.MustAppend(t, s, stream, eventstore.NoStream(), first...)
	for range 5 {
		storetest.MustAppend(t, s, stream, eventstore.Any(), storetest.Events("Later", 20)...)
	}
	for _, exp := range []eventstore.ExpectedRevision{eventstore.Any(), eventstore.NoStream()} {
		if rev := storetest.MustAppend(t, s, stream, exp, first...); rev != 2 {
			t.Fatalf("repeat with %v returned revision %d, want 2", exp, rev)
		}
	}
	if got := ids(t, s, stream); len(got) != 103 || !slices.Equal(got[:3], idsOf(first)) {
		t.Fatalf("stream holds %d events, want 103 with the first batch once", len(got))
	}
}

// testConcurrentRepeat: writers on several connections append the same
// batch at once, as retries of one command might: it lands once, and every
// writer is told where.
func testConcurrentRepeat(t *testing.T, uri, p string) {
	stores := []*Store{openStore(t, uri, eventstore.Config{Timeout: suiteTimeout}), openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})}
	stream := p + "retry"
	storetest.MustAppend(t, stores[0], stream, eventstore.NoStream(), storetest.Events("Before", 2)...)
	batch := storetest.Events("Retried", 4)
	const writers = 8
	revs := make([]uint64, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exp := eventstore.Any()
			if w%2 == 1 {
				exp = eventstore.Exact(1)
			}
			revs[w], errs[w] = stores[w%2].Append(context.Background(), stream, exp, batch...)
		}()
	}
	wg.Wait()
	for w := range writers {
		if errs[w] != nil || revs[w] != 5 {
			t.Fatalf("writer %d: revision %d, error %v; want 5", w, revs[w], errs[w])
		}
	}
	if got := ids(t, stores[0], stream); len(got) != 6 || !slices.Equal(got[2:], idsOf(batch)) {
		t.Fatalf("stream holds %d events, want the batch once after 2", len(got))
	}
}

// testConcurrentOtherStreams: writers race to append one event to different
// streams; exactly one stream gets it.
func testConcurrentOtherStreams(t *testing.T, uri, p string) {
	s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	e := storetest.Events("Contested", 1)[0]
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[w] = s.Append(context.Background(), fmt.Sprintf("%sw%d", p, w), eventstore.Any(), e)
		}()
	}
	wg.Wait()
	won := -1
	for w, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both appended event %s", won, w, e.ID)
		case err == nil:
			won = w
		case !errors.Is(err, eventstore.ErrDuplicateEvent):
			t.Fatalf("writer %d: %v, want ErrDuplicateEvent or success", w, err)
		}
	}
	if won < 0 {
		t.Fatal("no writer appended the event")
	}
	for w := range writers {
		got := ids(t, s, fmt.Sprintf("%sw%d", p, w))
		if (w == won) != (len(got) == 1) || len(got) > 1 {
			t.Fatalf("stream of writer %d holds %d events (writer %d won)", w, len(got), won)
		}
	}
}

// testReservedByIncompleteAppend: an ID reserved by an append that never
// landed (as when a process dies between reserving and appending) stays its
// stream's: another stream is refused it, its own stream takes it.
func testReservedByIncompleteAppend(t *testing.T, uri, p string) {
	s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	a, b := p+"a", p+"b"
	e := storetest.Events("Reserved", 1)[0]
	if ok, err := s.reserve(context.Background(), e.ID, a, 0, nil); err != nil || !ok {
		t.Fatalf("reserve: %v, %v", ok, err)
	}
	_, err := s.Append(context.Background(), b, eventstore.Any(), e)
	if !errors.Is(err, eventstore.ErrDuplicateEvent) || !strings.Contains(err.Error(), "reserved for stream "+a) {
		t.Fatalf("appending %s's reserved ID to %s: %v, want ErrDuplicateEvent naming the reservation", a, b, err)
	}
	storetest.MustAppend(t, s, a, eventstore.NoStream(), storetest.Events("First", 2)...)
	if rev := storetest.MustAppend(t, s, a, eventstore.Exact(1), e); rev != 2 {
		t.Fatalf("append of the reserved event to its stream: revision %d, want 2", rev)
	}
	if rev := storetest.MustAppend(t, s, a, eventstore.Exact(1), e); rev != 2 {
		t.Fatalf("repeat: revision %d, want 2", rev)
	}
	_, err = s.Append(context.Background(), b, eventstore.Any(), e)
	if !errors.Is(err, eventstore.ErrDuplicateEvent) || !strings.Contains(err.Error(), "already stored in stream "+a+" at revision 2") {
		t.Fatalf("appending %s's stored event to %s: %v, want ErrDuplicateEvent naming where it is", a, b, err)
	}
	if got := ids(t, s, b); got != nil {
		t.Fatalf("%s holds %d events", b, len(got))
	}
}

// testReservedNames: the reservation streams' names and names the server
// cannot keep are refused before anything is sent.
func testReservedNames(t *testing.T, uri, p string) {
	s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	for _, name := range []string{claimPrefix + uuid.NewString(), claimPrefix, p + "\xff\xfe"} {
		if _, err := s.Append(context.Background(), name, eventstore.Any(), storetest.Events("E", 1)...); !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("Append to %q: %v, want ErrInvalid", name, err)
		}
	}
	e := storetest.Events("E", 1)
	twice := []eventstore.EventData{e[0], storetest.Events("E", 1)[0], e[0]}
	if _, err := s.Append(context.Background(), p+"twice", eventstore.Any(), twice...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Errorf("a batch with one ID twice: %v, want ErrDuplicateEvent", err)
	}
	if got := ids(t, s, p+"twice"); got != nil {
		t.Fatalf("a refused batch left %d events", len(got))
	}
	// The refusal reserved nothing: the IDs are free for any stream.
	storetest.MustAppend(t, s, p+"other", eventstore.Any(), twice[:2]...)
}

// testStreamsHidesReservations: Streams lists the streams appended to, never
// the reservation streams, whatever the prefix.
func testStreamsHidesReservations(t *testing.T, uri, p string) {
	s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	es := storetest.Events("Listed", 3)
	storetest.MustAppend(t, s, p+"x", eventstore.NoStream(), es...)
	got, err := s.Streams(context.Background(), p)
	if want := []eventstore.StreamInfo{{Name: p + "x", Events: 3}}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Streams(%q) = %v, %v; want %v", p, got, err, want)
	}
	got, err = s.Streams(context.Background(), claimPrefix+es[0].ID.String())
	if err != nil || len(got) != 0 {
		t.Fatalf("Streams of a reservation stream's name = %v, %v; want nothing", got, err)
	}
	all, err := s.Streams(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, info := range all {
		if strings.HasPrefix(info.Name, claimPrefix) || strings.HasPrefix(info.Name, "$") {
			t.Fatalf("Streams(\"\") lists %s", info.Name)
		}
		found = found || info.Name == p+"x"
	}
	if !found {
		t.Fatalf("Streams(\"\") does not list %s", p+"x")
	}
}

// testReadOnly: a read-only store reads and refuses to append.
func testReadOnly(t *testing.T, uri, p string) {
	rw := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	storetest.MustAppend(t, rw, p+"ro", eventstore.NoStream(), storetest.Events("E", 2)...)
	ro := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout, ReadOnly: true})
	if _, err := ro.Append(context.Background(), p+"ro", eventstore.Any(), storetest.Events("E", 1)...); !errors.Is(err, eventstore.ErrReadOnly) {
		t.Fatalf("Append on a read-only store: %v, want ErrReadOnly", err)
	}
	if got := ids(t, ro, p+"ro"); len(got) != 2 {
		t.Fatalf("read-only store reads %d events, want 2", len(got))
	}
}

// testSeveralStores: stores with connections of their own, as several
// processes would have, race with Exact; the stream ends gap-free, every
// append once.
func testSeveralStores(t *testing.T, uri, p string) {
	stream := p + "shared"
	const writers, appends = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < appends; {
				n, err := count(s, stream)
				if err != nil {
					errs <- err
					return
				}
				exp := eventstore.NoStream()
				if n > 0 {
					exp = eventstore.Exact(n - 1)
				}
				rev, err := s.Append(context.Background(), stream, exp, storetest.Events(fmt.Sprintf("W%d", w), 1)...)
				if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
					continue
				}
				if err != nil || rev != n {
					errs <- fmt.Errorf("writer %d: revision %d (want %d), %v", w, rev, n, err)
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
	s := openStore(t, uri, eventstore.Config{Timeout: suiteTimeout})
	got := ids(t, s, stream)
	seen := map[uuid.UUID]bool{}
	for _, id := range got {
		seen[id] = true
	}
	if len(got) != writers*appends || len(seen) != len(got) {
		t.Fatalf("stream holds %d events (%d distinct), want %d", len(got), len(seen), writers*appends)
	}
}
