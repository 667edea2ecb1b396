package memstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
	"github.com/treaty-engine/treaty/eventstore/memstore"
	"github.com/treaty-engine/treaty/eventstore/storetest"
)

// openNamed opens the store "mem:"+name the way the program opens a store,
// closed when t ends.
func openNamed(t *testing.T, name string, opts ...eventstore.Option) eventstore.Store {
	t.Helper()
	s, err := eventstore.Open(context.Background(), memstore.Scheme+":"+name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformanceRegistered runs the suite on stores opened by URI,
// through the registry, a second store on the same name sharing the
// events. (storetest's own test runs it on New and Reopen.)
func TestConformanceRegistered(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openNamed(t, t.Name(), eventstore.Create())
	}, storetest.Reopen(func(t *testing.T, s eventstore.Store) eventstore.Store {
		return openNamed(t, t.Name())
	}))
}

func newEvents(n int) []eventstore.EventData {
	es := make([]eventstore.EventData, n)
	for i := range es {
		es[i] = eventstore.EventData{ID: uuid.New(), Type: "Tested", Data: fmt.Appendf(nil, `{"n":%d}`, i), Metadata: []byte(`{}`)}
	}
	return es
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, es ...eventstore.EventData) uint64 {
	t.Helper()
	rev, err := s.Append(context.Background(), stream, eventstore.Any(), es...)
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// read returns the IDs stream holds and the errors reading it yields.
func read(s eventstore.Store, stream string) ([]uuid.UUID, []error) {
	var ids []uuid.UUID
	var errs []error
	for e, err := range s.Read(context.Background(), stream, 0) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, e.ID)
	}
	return ids, errs
}

func idsOf(es []eventstore.EventData) []uuid.UUID {
	var ids []uuid.UUID
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

// TestOpenByName: a name is one store for the whole process, created only
// when asked, and outlives the stores opened on it; another name, and a
// store from New, are other stores.
func TestOpenByName(t *testing.T) {
	ctx := context.Background()
	name := t.Name()
	if _, err := eventstore.Open(ctx, "mem:"+name); !errors.Is(err, eventstore.ErrStoreNotFound) {
		t.Fatalf("opening a name never created: %v, want ErrStoreNotFound", err)
	}
	for _, uri := range []string{"mem:", "MEM:"} {
		if _, err := eventstore.Open(ctx, uri, eventstore.Create()); err == nil {
			t.Fatalf("Open(%q) named no store, yet succeeded", uri)
		}
	}
	a := openNamed(t, name, eventstore.Create())
	es := newEvents(3)
	mustAppend(t, a, "treaty-a", es...)
	if err := a.(eventstore.Cache).CachePut(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := openNamed(t, name)
	if ids, errs := read(b, "treaty-a"); errs != nil || !slices.Equal(ids, idsOf(es)) {
		t.Fatalf("a second open of %s reads %v, %v; want the events the first appended", name, ids, errs)
	}
	if v, err := b.(eventstore.Cache).CacheGet(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("a second open of %s caches %q, %v; want the first one's", name, v, err)
	}
	// IDs are unique across the stores of one name, not across names.
	if _, err := b.Append(ctx, "treaty-b", eventstore.Any(), es[0]); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("appending a stored ID to another stream: %v, want ErrDuplicateEvent", err)
	}
	for _, other := range []eventstore.Store{openNamed(t, name+"-other", eventstore.Create()), memstore.New()} {
		if ids, errs := read(other, "treaty-a"); ids != nil || len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrStreamNotFound) {
			t.Fatalf("another store reads %v, %v; want ErrStreamNotFound", ids, errs)
		}
		mustAppend(t, other, "treaty-a", es...)
	}
}

// TestReadOnly: a store opened read-only reads what others append and
// refuses to write, events and cache alike.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	w := openNamed(t, t.Name(), eventstore.Create())
	r := openNamed(t, t.Name(), eventstore.ReadOnly())
	es := newEvents(2)
	mustAppend(t, w, "treaty-ro", es...)
	if ids, errs := read(r, "treaty-ro"); errs != nil || !slices.Equal(ids, idsOf(es)) {
		t.Fatalf("the read-only store reads %v, %v", ids, errs)
	}
	if _, err := r.Append(ctx, "treaty-ro", eventstore.Any(), newEvents(1)...); !errors.Is(err, eventstore.ErrReadOnly) {
		t.Fatalf("Append on a read-only store: %v, want ErrReadOnly", err)
	}
	c := r.(eventstore.Cache)
	if err := c.CachePut(ctx, "k", []byte("v")); !errors.Is(err, eventstore.ErrReadOnly) {
		t.Fatalf("CachePut on a read-only store: %v, want ErrReadOnly", err)
	}
	if err := c.CacheDelete(ctx, "k"); !errors.Is(err, eventstore.ErrReadOnly) {
		t.Fatalf("CacheDelete on a read-only store: %v, want ErrReadOnly", err)
	}
	// A repeat appends nothing, yet is refused all the same: the store
	// cannot tell before it looks, and must not look for a writer.
	if _, err := r.Append(ctx, "treaty-ro", eventstore.Any(), es...); !errors.Is(err, eventstore.ErrReadOnly) {
		t.Fatalf("a repeat on a read-only store: %v, want ErrReadOnly", err)
	}
}

// TestEventBytesCopied: changing the bytes given to Append, or yielded by
// Read or Subscribe, changes nothing stored.
func TestEventBytesCopied(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	es := newEvents(1)
	mustAppend(t, s, "treaty-bytes", es...)
	want := bytes.Clone(es[0].Data)
	es[0].Data[0] = 'X'
	for e, err := range s.Read(ctx, "treaty-bytes", 0) {
		if err != nil || !bytes.Equal(e.Data, want) {
			t.Fatalf("Read after the caller changed what it appended: %q, %v", e.Data, err)
		}
		e.Data[0] = 'Y'
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for e, err := range s.Subscribe(subCtx, "treaty-bytes", 0) {
		if err != nil || !bytes.Equal(e.Data, want) {
			t.Fatalf("Subscribe after the caller changed what Read yielded: %q, %v", e.Data, err)
		}
		e.Data[0] = 'Z'
		break
	}
	for e, err := range s.Read(ctx, "treaty-bytes", 0) {
		if err != nil || !bytes.Equal(e.Data, want) {
			t.Fatalf("Read after the caller changed what Subscribe yielded: %q, %v", e.Data, err)
		}
	}
}

// TestTamper: events changed behind the store's back read as changed, a
// gap in the revisions ends a read with ErrCorrupt, and the IDs dropped
// may be appended again.
func TestTamper(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	es := newEvents(4)
	mustAppend(t, s, "treaty-t", es...)
	// Drop revision 1, keeping the others' revisions: a gap.
	s.Tamper("treaty-t", func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		evs[0].Data[0] = 'X' // a copy: the store's stays as it was until returned
		return slices.Delete(evs, 1, 2)
	})
	ids, errs := read(s, "treaty-t")
	if !slices.Equal(ids, idsOf(es[:1])) || len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrCorrupt) {
		t.Fatalf("a stream with a gap reads %v, %v; want its first event, then ErrCorrupt", ids, errs)
	}
	var subErr error
	for _, err := range s.Subscribe(ctx, "treaty-t", 0) {
		if err != nil {
			subErr = err
			break
		}
	}
	if !errors.Is(subErr, eventstore.ErrCorrupt) {
		t.Fatalf("a subscription to a stream with a gap: %v, want ErrCorrupt", subErr)
	}
	// Renumbered, as a careful forger would: reads fine, without the
	// dropped event, whose ID is free again.
	s.Tamper("treaty-t", func(evs []eventstore.RecordedEvent) []eventstore.RecordedEvent {
		for i := range evs {
			evs[i].Revision = uint64(i)
		}
		return evs
	})
	want := []uuid.UUID{es[0].ID, es[2].ID, es[3].ID}
	if ids, errs := read(s, "treaty-t"); errs != nil || !slices.Equal(ids, want) {
		t.Fatalf("a renumbered stream reads %v, %v; want %v", ids, errs, want)
	}
	for e := range s.Read(ctx, "treaty-t", 0) {
		if e.Data[0] != 'X' {
			t.Fatalf("the tampered data reads %q", e.Data)
		}
		break
	}
	if rev := mustAppend(t, s, "treaty-t", es[1]); rev != 3 {
		t.Fatalf("appending the dropped event: revision %d, want 3", rev)
	}
	if rev, err := s.Append(ctx, "treaty-t", eventstore.Exact(0), es[2:4]...); err != nil || rev != 2 {
		t.Fatalf("repeating events kept by the tampering: %d, %v; want a repeat ending at revision 2", rev, err)
	}
}
