package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/internal/faulttest"
	"github.com/treaty-engine/treaty/eventstore/postgres/pgtest"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// faultTimeout is the timeout of stores that meet a misbehaving server:
// short, so the tests are quick, and long enough that a healthy call on a
// loaded machine does not hit it.
const faultTimeout = 1500 * time.Millisecond

// TestOpenUnreachable: nothing listens at the URI's port; Open goes on
// trying (a server may be restarting) and fails at the timeout, naming the
// URI and what to check.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	uri := "postgres://treaty:s3cret@" + faulttest.FreePort(t) + "/treaty?sslmode=disable"
	start := time.Now()
	_, err := Open(context.Background(), uri, eventstore.Config{Timeout: faultTimeout})
	faulttest.WantBounded(t, "Open", start, faultTimeout, err, uri, ErrUnreachable)
	for _, want := range []string{"connection refused", "running and accepts connections", "sslmode"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestOpenRefused: the server accepts connections and closes them at once.
func TestOpenRefused(t *testing.T) {
	t.Parallel()
	addr := faulttest.Listen(t, func(c net.Conn) { c.Close() })
	uri := "postgres://treaty:s3cret@" + addr + "/treaty?sslmode=disable"
	start := time.Now()
	_, err := Open(context.Background(), uri, eventstore.Config{Timeout: faultTimeout})
	faulttest.WantBounded(t, "Open", start, faultTimeout, err, uri, ErrUnreachable)
}

// TestOpenSilent: the server accepts connections and never answers.
func TestOpenSilent(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	defer close(stop)
	addr := faulttest.Listen(t, func(c net.Conn) {
		<-stop
		c.Close()
	})
	uri := "postgres://treaty:s3cret@" + addr + "/treaty?sslmode=disable"
	start := time.Now()
	_, err := Open(context.Background(), uri, eventstore.Config{Timeout: faultTimeout})
	faulttest.WantBounded(t, "Open", start, faultTimeout, err, uri, ErrUnreachable)
	if !strings.Contains(err.Error(), "did not answer within") {
		t.Errorf("error %q does not say the server did not answer", err)
	}
	// Open honours its context before the timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err = Open(ctx, uri, eventstore.Config{Timeout: time.Minute}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > faulttest.Slack {
		t.Fatalf("Open with a 200 ms context: %v after %s, want context.DeadlineExceeded soon", err, time.Since(start))
	}
}

// proxy stands between the store and the server, passing the protocol
// through, and does to the next COMMIT what it is told.
type proxy struct {
	addr   string
	target string
	// onCommit is what happens to the next COMMIT: "" passes it;
	// "drop-after" passes it and cuts the connection before the answer,
	// "drop-before" cuts the connection instead of passing it.
	mu       sync.Mutex
	onCommit string
	cut      atomic.Int32 // connections cut
	frozen   atomic.Bool  // pass nothing more, either way
}

func startProxy(t *testing.T, uri string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: u.Host}
	p.addr = faulttest.Listen(t, p.serve)
	u.Host = p.addr
	return p, u.String()
}

func (p *proxy) next(what string) {
	p.mu.Lock()
	p.onCommit = what
	p.mu.Unlock()
}

// take returns what to do to a COMMIT now, once.
func (p *proxy) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	what := p.onCommit
	p.onCommit = ""
	return what
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	var mute atomic.Bool // pass the server's answers no more
	go func() {
		p.copy(client, server, &mute)
		client.Close()
	}()
	// Client to server: the untyped startup messages, then typed ones.
	started := false
	for {
		var head [5]byte
		n := 5
		if !started {
			n = 4
		}
		if _, err := io.ReadFull(client, head[:n]); err != nil {
			return
		}
		var size uint32
		if started {
			size = binary.BigEndian.Uint32(head[1:5])
		} else {
			size = binary.BigEndian.Uint32(head[0:4])
		}
		body := make([]byte, size-4)
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		if !started && len(body) >= 4 && binary.BigEndian.Uint32(body[:4]) == 196608 {
			started = true // protocol 3.0: the startup message
		}
		msg := append(head[:n:n], body...)
		if started && n == 5 && head[0] == 'Q' && bytes.EqualFold(bytes.TrimRight(body, "\x00"), []byte("commit")) {
			switch p.take() {
			case "drop-before":
				p.cut.Add(1)
				return
			case "drop-after":
				p.cut.Add(1)
				mute.Store(true)
				server.Write(msg)
				time.Sleep(50 * time.Millisecond) // let the server read it before it sees the end
				return
			}
		}
		for p.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// copy passes server to client until either fails or mute is set,
// holding back while frozen.
func (p *proxy) copy(dst, src net.Conn, mute *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if mute.Load() {
			return
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestLostCommit: the connection is cut around an append's COMMIT, before
// the server answers. Whether the server committed (the answer was lost)
// or not (the COMMIT was), the append is made again and lands exactly
// once, reporting its revision, under every expected revision.
func TestLostCommit(t *testing.T) {
	uri := pgtest.Database(t)
	openStore(t, uri, eventstore.Config{Create: true})
	p, via := startProxy(t, uri)
	s := openStore(t, via, eventstore.Config{})
	ctx := context.Background()
	var want []eventstore.EventData
	for i, tc := range []struct {
		cut string
		exp eventstore.ExpectedRevision
	}{
		{"drop-after", eventstore.NoStream()},
		{"drop-before", eventstore.Exact(1)},
		{"drop-after", eventstore.Exact(3)},
		{"drop-after", eventstore.Any()},
		{"drop-before", eventstore.StreamExists()},
		{"drop-after", eventstore.StreamExists()},
	} {
		es := storetest.Events(fmt.Sprintf("Batch%d", i), 2)
		p.next(tc.cut)
		cuts, repeated := p.cut.Load(), repeats.Load()
		rev, err := s.Append(ctx, "lost", tc.exp, es...)
		if err != nil {
			t.Fatalf("append %d (%s, %v): %v", i, tc.cut, tc.exp, err)
		}
		if p.cut.Load() != cuts+1 {
			t.Fatalf("append %d: the proxy cut no connection", i)
		}
		// Committed, the retry found the batch stored; not, it appended.
		if wantRepeat := tc.cut == "drop-after"; (repeats.Load() > repeated) != wantRepeat {
			t.Fatalf("append %d (%s): the retry found the batch stored: %v, want %v", i, tc.cut, !wantRepeat, wantRepeat)
		}
		want = append(want, es...)
		if rev != uint64(len(want)-1) {
			t.Fatalf("append %d (%s) returned revision %d, want %d", i, tc.cut, rev, len(want)-1)
		}
	}
	got, err := readErr(s, "lost")
	if err != nil || len(got) != len(want) {
		t.Fatalf("the stream holds %d events (%v), want %d", len(got), err, len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("revision %d holds %s, want %s", i, got[i].ID, want[i].ID)
		}
	}
}

// TestFrozenServer: a server that stops answering in the middle of a
// session fails each call at the timeout, naming the URI, and the store
// works again once it answers.
func TestFrozenServer(t *testing.T) {
	t.Parallel()
	uri := pgtest.Database(t)
	openStore(t, uri, eventstore.Config{Create: true})
	p, via := startProxy(t, uri)
	s := openStore(t, via, eventstore.Config{Timeout: faultTimeout})
	ctx := context.Background()
	storetest.MustAppend(t, s, "frozen", eventstore.NoStream(), storetest.Events("E", 1)...)
	p.frozen.Store(true)
	start := time.Now()
	_, err := s.Append(ctx, "frozen", eventstore.Exact(0), storetest.Events("E", 1)...)
	faulttest.WantBounded(t, "Append", start, faultTimeout, err, via, ErrUnreachable)
	start = time.Now()
	_, err = readErr(s, "frozen")
	faulttest.WantBounded(t, "Read", start, faultTimeout, err, via, ErrUnreachable)
	start = time.Now()
	_, err = s.CacheGet(ctx, "k")
	faulttest.WantBounded(t, "CacheGet", start, faultTimeout, err, via, ErrUnreachable)
	p.frozen.Store(false)
	if evs, err := readErr(s, "frozen"); err != nil || len(evs) < 1 {
		t.Fatalf("after the server answers again: %d events, %v", len(evs), err)
	}
}

// terminate ends every other session on the database at uri, as a server
// restarting or an administrator would.
func terminate(t testing.TB, uri string) int {
	t.Helper()
	return sqlValue[int](t, uri, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
}

// TestSessionsEnded: writers append as the write path does (read the head,
// append with the exact revision, read again on a conflict) while their
// sessions are ended again and again; every append acknowledged is stored
// once, in order, and none fails.
func TestSessionsEnded(t *testing.T) {
	uri := pgtest.Database(t)
	openStore(t, uri, eventstore.Config{Create: true})
	stores := make([]*Store, 4)
	for i := range stores {
		stores[i] = openStore(t, uri, eventstore.Config{})
	}
	acked, errs := writeWhile(t, stores, "ended", 25, func() { terminate(t, uri) })
	for _, err := range errs {
		t.Error(err)
	}
	checkAcked(t, stores[0], "ended", acked)
}

// writeWhile runs a writer on each store, each appending appends batches
// of one or two events to stream, each at the revision it read; meanwhile
// it calls disturb every 30 ms. It returns the IDs acknowledged and the
// errors met.
func writeWhile(t *testing.T, stores []*Store, stream string, appends int, disturb func()) (map[uuid.UUID]bool, []error) {
	t.Helper()
	var (
		mu    sync.Mutex
		acked = map[uuid.UUID]bool{}
		errs  []error
		wg    sync.WaitGroup
	)
	done := make(chan struct{})
	for w, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < appends; {
				evs, err := readErr(s, stream)
				if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("writer %d: read: %w", w, err))
					mu.Unlock()
					return
				}
				exp := eventstore.NoStream()
				if len(evs) > 0 {
					exp = eventstore.Exact(uint64(len(evs) - 1))
				}
				batch := storetest.Events(fmt.Sprint("Writer", w), 1+i%2)
				_, err = s.Append(ctx, stream, exp, batch...)
				if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
					continue
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("writer %d: append %d: %w", w, i, err))
				} else {
					for _, e := range batch {
						acked[e.ID] = true
					}
				}
				mu.Unlock()
				i++
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	disturbed, retried := 0, retries.Load()
	for tick := time.NewTicker(30 * time.Millisecond); ; {
		select {
		case <-done:
			t.Logf("%d events acknowledged, %d errors, disturbed %d times, %d calls tried again", len(acked), len(errs), disturbed, retries.Load()-retried)
			return acked, errs
		case <-tick.C:
			disturb()
			disturbed++
		}
	}
}

// checkAcked checks that stream holds every acknowledged event once, with
// no gap, and nothing else but events whose appends failed.
func checkAcked(t *testing.T, s eventstore.Store, stream string, acked map[uuid.UUID]bool) {
	t.Helper()
	got, err := readErr(s, stream)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uuid.UUID]bool{}
	for i, e := range got {
		if e.Revision != uint64(i) || seen[e.ID] {
			t.Fatalf("revision %d: event %s at %d, seen before: %v", i, e.ID, e.Revision, seen[e.ID])
		}
		seen[e.ID] = true
	}
	lost := 0
	for id := range acked {
		if !seen[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged events are not in the stream", lost, len(acked))
	}
	t.Logf("%d events stored, %d acknowledged", len(got), len(acked))
}

// TestSubscribeSessionsEnded: a subscription whose connections are ended,
// the listening one included, goes on from where it was and yields every
// event once, in order.
func TestSubscribeSessionsEnded(t *testing.T) {
	uri := pgtest.Database(t)
	w := openStore(t, uri, eventstore.Config{Create: true})
	expect := follow(t, openStore(t, uri, eventstore.Config{}), "followed")
	var want []uuid.UUID
	for i := range 10 {
		es := storetest.Events("E", 1)
		storetest.MustAppend(t, w, "followed", eventstore.Any(), es...)
		want = append(want, es[0].ID)
		if i%3 == 1 {
			if n := terminate(t, uri); n == 0 {
				t.Logf("append %d: no session to end", i)
			}
		}
	}
	expect(want)
}

// follow subscribes to stream of s from its start, until t ends; expect
// checks that the subscription yields the events with IDs want next, in
// order, once each, within 20 s of each other.
func follow(t *testing.T, s *Store, stream string) (expect func(want []uuid.UUID)) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	got := make(chan eventstore.RecordedEvent, 10000)
	failed := make(chan error, 1)
	go func() {
		for e, err := range s.Subscribe(ctx, stream, 0) {
			if err != nil {
				failed <- err
				return
			}
			got <- e
		}
	}()
	next := uint64(0)
	return func(want []uuid.UUID) {
		t.Helper()
		for _, id := range want {
			select {
			case e := <-got:
				if e.Revision != next || e.ID != id {
					t.Fatalf("the subscription yielded revision %d (%s) where %d (%s) was due", e.Revision, e.ID, next, id)
				}
				next++
			case err := <-failed:
				t.Fatalf("the subscription failed after %d events: %v", next, err)
			case <-time.After(20 * time.Second):
				t.Fatalf("the subscription yielded nothing for 20 s where revision %d was due", next)
			}
		}
	}
}

// TestLockWait: an append that waits for longer than the timeout for
// another writer's hold on its stream fails saying so, appending nothing;
// appends to other streams do not wait, and once the hold ends the stream
// takes appends again.
func TestLockWait(t *testing.T) {
	uri := pgtest.Database(t)
	s := openStore(t, uri, eventstore.Config{Create: true, Timeout: faultTimeout})
	storetest.MustAppend(t, s, "held", eventstore.NoStream(), storetest.Events("E", 1)...)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, lockSQL, lockStream, s.streamKey("held")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.Append(ctx, "held", eventstore.Exact(0), storetest.Events("E", 1)...)
	if err == nil || !strings.Contains(err.Error(), "another writer held the stream for longer than the timeout") || time.Since(start) > faultTimeout+faulttest.Slack {
		t.Fatalf("Append to a held stream: %v after %s", err, time.Since(start))
	}
	storetest.MustAppend(t, s, "free", eventstore.NoStream(), storetest.Events("E", 1)...)
	tx.Rollback(ctx)
	storetest.MustAppend(t, s, "held", eventstore.Exact(0), storetest.Events("E", 1)...)
}
