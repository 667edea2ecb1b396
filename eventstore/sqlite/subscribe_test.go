package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// checkpoint runs a TRUNCATE checkpoint through s's writer and reports
// whether it finished: it cannot while a read transaction uses the WAL.
func checkpoint(t *testing.T, s *Store) bool {
	t.Helper()
	var busy, logged, moved int
	if err := s.writer.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil {
		t.Fatal(err)
	}
	return busy == 0
}

// TestSubscribeHoldsNoTransaction: a subscription holds no read transaction
// while its consumer works on an event, nor while it waits for new ones, so
// a checkpoint can reset the WAL; a paused Read, which streams from one
// snapshot, is the control that shows the check would notice.
func TestSubscribeHoldsNoTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "treaty.db")
	s, err := Open(context.Background(), path, eventstore.Config{Create: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const stream = "treaty-ckpt"
	mustAppendN(t, s, stream, 1000)

	for _, err := range s.Read(context.Background(), stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		mustAppendN(t, s, "treaty-other", 1)
		if checkpoint(t, s) {
			t.Fatal("a checkpoint finished while a Read was paused in its snapshot: the check cannot see a held transaction")
		}
		break
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for _, err := range s.Subscribe(ctx, stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		switch n++; n {
		case 10, 600: // in the first batch, and in a later one
			mustAppendN(t, s, "treaty-other", 1)
			if !checkpoint(t, s) {
				t.Fatalf("a checkpoint could not finish while the consumer worked on event %d", n)
			}
		case 1000:
			go func() {
				time.Sleep(100 * time.Millisecond) // the subscription waits meanwhile
				var busy, logged, moved int
				e := eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: []byte(`{}`)}
				if _, err := s.Append(ctx, "treaty-other", eventstore.Any(), e); err != nil {
					t.Error(err)
				} else if err := s.writer.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil || busy != 0 {
					t.Errorf("a checkpoint could not finish while the subscription waited (busy=%d, %v)", busy, err)
				}
				e.ID = uuid.New()
				if _, err := s.Append(ctx, stream, eventstore.Any(), e); err != nil {
					t.Error(err)
					cancel()
				}
			}()
		case 1001:
			cancel()
		}
	}
	if n != 1001 {
		t.Fatalf("the subscription yielded %d events, want 1001", n)
	}
}

// TestSubscribeBatches: a backlog of events larger than one batch, in count
// and in bytes, arrives whole and in order, in flat memory.
func TestSubscribeBatches(t *testing.T) {
	s := openTemp(t)
	const stream = "treaty-batches"
	big := strings.Repeat("x", 300<<10) // four of them fill a batch's bytes
	var want []uuid.UUID
	for i := range 8 {
		e := eventstore.EventData{ID: uuid.New(), Type: "Big", Data: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, big), Metadata: []byte(`{}`)}
		mustAppend(t, s, stream, e)
		want = append(want, e.ID)
	}
	for _, e := range mustAppendN(t, s, stream, 3*subBatchEvents+7) {
		want = append(want, e.ID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	n := 0
	for e, err := range s.Subscribe(ctx, stream, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Revision != uint64(n) || e.ID != want[n] {
			t.Fatalf("event %d: revision %d, ID %s; want %s", n, e.Revision, e.ID, want[n])
		}
		if n < 8 && len(e.Data) < len(big) {
			t.Fatalf("event %d has %d bytes of data", n, len(e.Data))
		}
		if n++; n == len(want) {
			break
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if grown := int64(ms.HeapAlloc) - int64(base); grown > 4<<20 {
		t.Fatalf("the heap grew by %d bytes over the subscription", grown)
	}
}

// mustAppend appends es to stream with Any.
func mustAppend(t *testing.T, s eventstore.Store, stream string, es ...eventstore.EventData) {
	t.Helper()
	if _, err := s.Append(context.Background(), stream, eventstore.Any(), es...); err != nil {
		t.Fatal(err)
	}
}

// TestSubscribeOtherProcesses: processes append to a stream while this one
// follows it; every event arrives once, at the revision its writer was
// told.
func TestSubscribeOtherProcesses(t *testing.T) {
	const procs, perProc = 3, 15
	path := filepath.Join(t.TempDir(), "shared.db")
	s, err := Open(context.Background(), path, eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const stream = "treaty-followed"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	got := make(chan eventstore.RecordedEvent, procs*perProc)
	subErr := make(chan error, 1)
	go func() {
		defer close(got)
		n := 0
		for e, err := range s.Subscribe(ctx, stream, 0) {
			if err != nil {
				subErr <- err
				return
			}
			got <- e
			if n++; n == procs*perProc {
				return
			}
		}
	}()

	outs := make([][]byte, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := child(ctx, t, "append", childPath+"="+path, childStream+"="+stream,
				childEvents+"="+strconv.Itoa(perProc), childName+"=p"+strconv.Itoa(p))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			outs[p], errs[p] = cmd.Output()
			if errs[p] != nil {
				errs[p] = fmt.Errorf("process %d: %v: %s", p, errs[p], stderr.String())
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[uuid.UUID]uint64{}
	for _, out := range outs {
		for id, rev := range landed(t, out) {
			want[id] = rev
		}
	}
	var n uint64
	for e := range got {
		if rev, ok := want[e.ID]; !ok || rev != e.Revision || e.Revision != n {
			t.Fatalf("the subscription yielded %s at revision %d as event %d; its writer reported it at %d (%v)", e.ID, e.Revision, n, rev, ok)
		}
		n++
	}
	select {
	case err := <-subErr:
		t.Fatal(err)
	default:
	}
	if n != procs*perProc {
		t.Fatalf("the subscription yielded %d events, want %d", n, procs*perProc)
	}
}

// TestSubscribeEndsOnClose: a subscription waiting for events ends at once
// when the store is closed, with exactly one error wrapping ErrClosed, and
// gives back its connection.
func TestSubscribeEndsOnClose(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "treaty.db"), eventstore.Config{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	mustAppendN(t, s, "treaty-close", 2)
	errs := make(chan []error, 1)
	waiting := make(chan struct{})
	go func() {
		var got []error
		n := 0
		for _, err := range s.Subscribe(context.Background(), "treaty-close", 0) {
			if err != nil {
				got = append(got, err)
			} else if n++; n == 2 {
				close(waiting)
			}
		}
		errs <- got
	}()
	<-waiting
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-errs:
		if len(got) != 1 || !errors.Is(got[0], eventstore.ErrClosed) || !strings.Contains(got[0].Error(), s.Path()) {
			t.Fatalf("the subscription ended with errors %v, want one ErrClosed naming the file", got)
		}
		if took := time.Since(start); took > pollInterval+time.Second {
			t.Fatalf("the subscription ended %s after Close", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription still waits 5s after Close")
	}
}

// TestSubscribePollQuery: the wait looks a stream up by its primary key,
// never scanning the log.
func TestSubscribePollQuery(t *testing.T) {
	s := openTemp(t)
	var id, parent, notused int
	var detail string
	if err := s.writer.QueryRow("EXPLAIN QUERY PLAN "+rawHeadSQL, "x").Scan(&id, &parent, &notused, &detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "SEARCH streams USING PRIMARY KEY") {
		t.Fatalf("the poll's query plan is %q, want a primary-key search of streams", detail)
	}
}
