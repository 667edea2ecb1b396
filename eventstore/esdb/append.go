package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/treaty-engine/treaty/eventstore"
)

// Event IDs are reserved in streams of their own (see the package comment):
// stream claimPrefix+<id> holds events of type claimType whose data is a
// claim. Its first event names the one stream the ID may ever be stored in;
// every event records a revision an append attempt meant to give the event
// there, written before that attempt, so an event stored in its stream is
// always at one of its reservation's revisions.
const (
	claimPrefix = "_eventid-"
	claimType   = "EventIDReserved"
)

func claimStream(id uuid.UUID) string { return claimPrefix + id.String() }

// claimData is the data of a reservation event.
type claimData struct {
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
}

// claim is an event ID's reservation as read back.
type claim struct {
	stream    string   // the stream the ID belongs to
	revisions []uint64 // where append attempts meant to put it
	last      uint64   // the reservation stream's last revision
}

// maxAttempts bounds how often one Append starts over because a
// concurrent writer moved the stream or reserved an ID between its reads
// and its append.
const maxAttempts = 100

// errAgain: a concurrent writer changed what an attempt relied on; start
// over.
var errAgain = errors.New("changed concurrently")

// Append writes events at the end of stream as eventstore.Store.Append
// specifies, in one append the server makes atomic.
//
// Before that it learns the stream's length (from expected when it is
// NoStream or Exact, else by reading the stream's last event), reserves
// each event ID for stream (see the package comment), and sends the append
// with the exact revision it learnt, so that the server refuses it if the
// stream moved meanwhile; it then starts over, reads and decides again,
// which also finds an earlier attempt of the same batch that did land.
// Repeats, partial repeats and IDs of other streams are found through the
// reservations, however old the events. The server's answer to the append
// is checked against the events read back (see confirm). A new batch with
// an exact expectation costs one reservation per event, the append and a
// read of the batch; the whole call, every attempt included, takes at most
// the timeout.
//
// The outcome of an append cut short by ctx or the timeout is unknown: it
// may land later. So is that of an append the server answers with a
// revision other than its last event's (ErrBadAnswer). Retrying it with
// the same event IDs is safe: a batch that landed is then reported as
// stored, and one that did not is appended. A server that stores events
// under other IDs than it was sent is refused with ErrBadAnswer, on the
// append that meets it and on every retry of it.
//
// Refusals: eventstore.ErrEmptyAppend; eventstore.ErrInvalid for an empty
// stream name, a name that is not UTF-8 or starts with "_eventid-", a nil
// ID or a type that is empty or not UTF-8; eventstore.ErrDuplicateEvent
// for an ID twice in the batch, a batch that partly repeats stored events,
// and an ID stored in or reserved for another stream (the rules every
// backend shares are eventstore.CheckBatch and eventstore.CheckRepeat);
// *eventstore.WrongRevisionError (wrapping
// eventstore.ErrWrongExpectedRevision) with the number of events the stream
// held when last read; eventstore.ErrReadOnly on a store opened read-only.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (uint64, error) {
	op := "append to " + stream
	if err := s.checkAppend(op, stream, events); err != nil {
		return 0, err
	}
	if err := s.check(ctx, op); err != nil {
		return 0, err
	}
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	for attempt := range maxAttempts {
		last, err := s.appendOnce(actx, stream, expected, events, attempt == 0)
		if !errors.Is(err, errAgain) {
			if err != nil {
				return 0, s.explain(ctx, op, err)
			}
			return last, nil
		}
	}
	return 0, fmt.Errorf("%s: %s: the stream kept changing under %d attempts: retry later", op, s.uri, maxAttempts)
}

// checkAppend refuses what no server call is needed to refuse: what every
// backend refuses (eventstore.CheckBatch), and names this one cannot store.
func (s *Store) checkAppend(op, stream string, events []eventstore.EventData) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %s: %w", op, s.uri, eventstore.ErrClosed)
	}
	if err := eventstore.CheckBatch(stream, events); err != nil {
		return err
	}
	switch {
	case !utf8.ValidString(stream):
		return fmt.Errorf("append to %q: the stream name is not valid UTF-8, which the server cannot keep as given: %w", stream, eventstore.ErrInvalid)
	case strings.HasPrefix(stream, claimPrefix):
		return fmt.Errorf("%s: names starting with %q are reserved for this store's index of event IDs: choose another name: %w", op, claimPrefix, eventstore.ErrInvalid)
	case s.readOnly:
		return fmt.Errorf("%s: %s was opened read-only: %w", op, s.uri, eventstore.ErrReadOnly)
	}
	return nil
}

// idState is what one attempt learnt about an event's ID.
type idState struct {
	fresh  bool   // this attempt reserved it: it is stored nowhere
	claim  *claim // its reservation, when it had one
	stored bool   // it is stored in the stream appended to…
	rev    uint64 // …at this revision
}

// appendOnce is one attempt of Append; errAgain asks for another. A first
// attempt with an exact expectation (NoStream or Exact) takes the stream's
// length from it instead of reading it: that is what the writer read, and
// if the stream moved, the append is refused and the next attempt reads.
func (s *Store) appendOnce(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, first bool) (uint64, error) {
	k := uint64(len(events))
	n, guessed := uint64(0), false
	if r, exact := expected.Revision(); first && exact && r < math.MaxInt64 {
		n, guessed = r+1, true
	} else if first && expected.IsNoStream() {
		n, guessed = 0, true
	} else {
		var err error
		if n, err = s.head(ctx, stream); err != nil {
			return 0, err
		}
	}
	st := make([]idState, k)

	// The usual case, new events where expected holds: reserving each ID
	// at the revision it will have is all the checking needed. An ID
	// reserved before is looked at next.
	if expected.Holds(n) {
		err := parallel(ctx, int(k), func(i int) error {
			ok, err := s.reserve(ctx, events[i].ID, stream, n+uint64(i), nil)
			st[i].fresh = ok
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	if guessed {
		for i := range st {
			if !st[i].fresh {
				// A repeat or a duplicate: deciding needs the stream's
				// real length, and the fresh reservations made meanwhile
				// must record the revisions it implies.
				return 0, errAgain
			}
		}
	}
	err := parallel(ctx, int(k), func(i int) error {
		if st[i].fresh {
			return nil
		}
		c, err := s.lookup(ctx, events[i].ID)
		st[i].claim = c
		return err
	})
	if err != nil {
		return 0, err
	}
	for i := range st {
		if c := st[i].claim; c != nil && c.stream != stream {
			return 0, s.reservedElsewhere(ctx, stream, events, i, c)
		}
	}
	err = parallel(ctx, int(k), func(i int) error {
		if st[i].claim == nil {
			return nil
		}
		rev, ok, err := s.locate(ctx, stream, events[i].ID, st[i].claim.revisions)
		st[i].rev, st[i].stored = rev, ok
		return err
	})
	if err != nil {
		return 0, err
	}

	// The reads above are not one snapshot: an append landing meanwhile
	// (another writer's attempt of this very batch, say) may show as part
	// of a batch stored. Events only ever get added, so if the stream's
	// length did not change across them, they saw one state.
	settled := func() error {
		now, err := s.head(ctx, stream)
		if err == nil && now != n {
			err = errAgain
		}
		return err
	}
	for i := range st {
		if !st[i].stored {
			continue
		}
		found := eventstore.Stored{Index: i, Stream: stream, Revision: st[i].rev}
		if i == 0 {
			// A repeat, if the whole batch is stored from there on.
			for found.Run < int(k) && st[found.Run].stored && st[found.Run].rev == found.Revision+uint64(found.Run) {
				found.Run++
			}
		}
		if found.Run < int(k) {
			// Refused as a duplicate, unless the reads saw a moving
			// stream.
			if err := settled(); err != nil {
				return 0, err
			}
		}
		return eventstore.CheckRepeat(stream, expected, events, n, found)
	}
	if !expected.Holds(n) {
		return 0, &eventstore.WrongRevisionError{Stream: stream, Expected: expected, Events: n}
	}

	// All new: reserve the IDs not reserved yet, and note the revision each
	// will have where this stream's reservation does not say it already.
	err = parallel(ctx, int(k), func(i int) error {
		if st[i].fresh {
			return nil
		}
		ok, err := s.reserve(ctx, events[i].ID, stream, n+uint64(i), st[i].claim)
		if err == nil && !ok {
			err = errAgain
		}
		return err
	})
	if err != nil {
		return 0, err
	}

	// The exact revision read, never Any: the events land where the
	// reservations say, or not at all.
	var exp esdb.ExpectedRevision = esdb.NoStream{}
	if n > 0 {
		exp = esdb.Revision(n - 1)
	}
	data := make([]esdb.EventData, k)
	for i, e := range events {
		data[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: e.Metadata}
	}
	var res *esdb.WriteResult
	err = s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		r, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: exp, Deadline: &s.timeout}, data...)
		res = r
		return err
	})
	switch {
	case wrongVersion(err):
		return 0, errAgain
	case err != nil:
		return 0, err
	}
	return s.confirm(ctx, stream, events, n, res)
}

// confirm checks the server's answer res to the append of events at
// revision n of stream against the events it stored there, which it reads
// back: the answer must give the last event's revision, and the events read
// back must carry the IDs appended. It returns the last event's revision.
//
// An answer with another revision (or none: the client makes one up when
// the server's answer is neither success nor wrong version, esdb/client.go,
// the end of AppendToStream) leaves the append's outcome unknown, whatever
// the read finds: the error says what it found. A retry with the same event
// IDs settles it, as it decides by reading where the events are, never by
// the server's answer to an append: it reports a batch that is stored with
// the revision read, and appends one that is not.
//
// A server that answers the right revision and reads the events back with
// other IDs does not keep IDs as given. The store relies on them to
// recognise a repeat, and a retry would store the batch again (see
// vouch), so that is ErrBadAnswer too. The check costs one read of the
// batch per append.
func (s *Store) confirm(ctx context.Context, stream string, events []eventstore.EventData, n uint64, res *esdb.WriteResult) (uint64, error) {
	op := "append to " + stream
	last := n + uint64(len(events)) - 1
	at := fmt.Sprintf("revision %d", n)
	if last > n {
		at = fmt.Sprintf("revisions %d-%d", n, last)
	}
	diff, err := s.readBack(ctx, stream, n, events)
	if res == nil || res.NextExpectedVersion != last {
		got := "no revision"
		if res != nil {
			got = fmt.Sprintf("revision %d", res.NextExpectedVersion)
		}
		found := "finds the events there as appended"
		switch {
		case err != nil:
			found = fmt.Sprintf("failed too: %v", err)
		case diff != nil:
			found = "finds " + diff.String()
		}
		return 0, fmt.Errorf("%s: %s answered the append of events at %s with %s as the stream's last: whether the append landed as asked is unknown "+
			"(a read just after %s); retry with the same event IDs: a retry decides by reading the stream, reporting a batch stored "+
			"with its revision there and appending one that is not: %w", op, s.uri, at, got, found, ErrBadAnswer)
	}
	switch {
	case err != nil:
		return 0, &readBackError{at: at, err: err}
	case diff != nil && diff.missing:
		return 0, fmt.Errorf("%s: %s answered the append as stored at %s, but a read just after finds %s: whether the append landed is unknown; "+
			"retry with the same event IDs (a repeat is harmless): %w", op, s.uri, at, diff, ErrBadAnswer)
	case diff != nil:
		return 0, fmt.Errorf("%s: %s stored the append at %s, but a read just after finds %s: the server does not keep event IDs as given, "+
			"on which this store relies to recognise a repeated append; check that the URI names a KurrentDB or EventStoreDB server: %w",
			op, s.uri, at, diff, ErrBadAnswer)
	}
	return last, nil
}

// readMismatch is where the events read back differ from those appended.
type readMismatch struct {
	rev     uint64
	want    uuid.UUID // the ID appended for revision rev
	got     uuid.UUID // the ID read there, unless missing
	missing bool      // no event at rev
}

func (d *readMismatch) String() string {
	if d.missing {
		return fmt.Sprintf("no event at revision %d", d.rev)
	}
	return fmt.Sprintf("event %s at revision %d, where event %s was appended", d.got, d.rev, d.want)
}

// readBackError: an append answered as expected could not be read back.
type readBackError struct {
	at  string // the revisions appended
	err error
}

func (e *readBackError) Error() string {
	return fmt.Sprintf("the append was answered as stored at %s, but reading it back failed: %v", e.at, e.err)
}

func (e *readBackError) Unwrap() error { return e.err }

// readBack reads the events at revision n of stream on, as many as events,
// and reports the first that is missing or has another ID than events
// says, if any. It receives no more than that many answers: a server may
// follow the last event with a message the client does not understand.
func (s *Store) readBack(ctx context.Context, stream string, n uint64, events []eventstore.EventData) (*readMismatch, error) {
	var diff *readMismatch
	err := s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		rs, err := c.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(n)}, uint64(len(events)))
		if err != nil {
			return err
		}
		defer rs.Close()
		for i, e := range events {
			rev := n + uint64(i)
			re, err := rs.Recv()
			switch {
			case notFound(err), errors.Is(err, io.EOF):
				diff = &readMismatch{rev: rev, want: e.ID, missing: true}
				return nil
			case err != nil:
				return err
			}
			rec := re.OriginalEvent()
			if rec == nil || rec.StreamID != stream || rec.EventNumber != rev {
				return badRead(stream)
			}
			if rec.EventID != e.ID {
				diff = &readMismatch{rev: rev, want: e.ID, got: rec.EventID}
				return nil
			}
		}
		return nil
	})
	return diff, err
}

// reserve records that event id belongs to stream and is meant for
// revision rev there. With no prior reservation it creates one, reporting
// false when another writer's reservation came first. With prior (a
// reservation for stream) it adds rev to it unless it is there, reporting
// false when another writer added to it meanwhile.
func (s *Store) reserve(ctx context.Context, id uuid.UUID, stream string, rev uint64, prior *claim) (bool, error) {
	var exp esdb.ExpectedRevision = esdb.NoStream{}
	if prior != nil {
		for _, r := range prior.revisions {
			if r == rev {
				return true, nil
			}
		}
		exp = esdb.Revision(prior.last)
	}
	data, err := json.Marshal(claimData{Stream: stream, Revision: rev})
	if err != nil {
		return false, err
	}
	err = s.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		// A new ID for every reservation event: a repeated one would let the
		// server's own idempotency accept a reservation made by another
		// writer. The answer's revision is not checked here: the append
		// the reservation is for is (see confirm), and whatever this append
		// really did, the next attempt's lookup reads it.
		_, err := c.AppendToStream(ctx, claimStream(id), esdb.AppendToStreamOptions{ExpectedRevision: exp, Deadline: &s.timeout},
			esdb.EventData{EventID: uuid.New(), EventType: claimType, ContentType: esdb.ContentTypeJson, Data: data})
		return err
	})
	if wrongVersion(err) {
		return false, nil
	}
	return err == nil, err
}

// lookup reads event id's reservation, or nil when it has none.
func (s *Store) lookup(ctx context.Context, id uuid.UUID) (*claim, error) {
	name := claimStream(id)
	var c *claim
	err := s.do(ctx, func(ctx context.Context, client *esdb.Client) error {
		rs, err := client.ReadStream(ctx, name, esdb.ReadStreamOptions{From: esdb.Start{}}, maxCount)
		if err != nil {
			return err
		}
		defer rs.Close()
		for {
			re, err := rs.Recv()
			switch {
			case notFound(err):
				c = nil
				return nil
			case errors.Is(err, io.EOF):
				return nil
			case err != nil:
				return err
			}
			rec := re.OriginalEvent()
			var d claimData
			if rec == nil || rec.EventType != claimType || json.Unmarshal(rec.Data, &d) != nil || d.Stream == "" || (c != nil && d.Stream != c.stream) {
				return fmt.Errorf("reservation stream %s holds an event this store did not write: "+
					"restore it from a copy, or remove what another program wrote there: %w", name, eventstore.ErrCorrupt)
			}
			if c == nil {
				c = &claim{stream: d.Stream}
			}
			c.revisions = append(c.revisions, d.Revision)
			c.last = rec.EventNumber
		}
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// locate finds event id in stream at one of revs.
func (s *Store) locate(ctx context.Context, stream string, id uuid.UUID, revs []uint64) (uint64, bool, error) {
	tried := make(map[uint64]bool, len(revs))
	for _, rev := range revs {
		if tried[rev] {
			continue
		}
		tried[rev] = true
		rec, ok, err := s.readOne(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(rev)})
		if err != nil {
			return 0, false, err
		}
		if !ok || rec == nil || rec.StreamID != stream || rec.EventNumber != rev {
			continue
		}
		if rec.EventID == id {
			return rev, true, nil
		}
		if err := s.vouch(ctx, stream, rev, id, rec.EventID); err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// vouch checks that event other, found at revision rev of stream where an
// append attempt meant to put event id, was put there by this store: that
// its own reservation names that place, as the reservation of every event
// the store appends does before the event is sent (another writer won the
// race for the place). If it does not, the server stored an event under
// another ID than the one it was sent with (or a program other than this
// store appends to the stream): a repeat of id's batch could no longer be
// recognised, and appending it again would store it twice.
func (s *Store) vouch(ctx context.Context, stream string, rev uint64, id, other uuid.UUID) error {
	c, err := s.lookup(ctx, other)
	if err != nil {
		return err
	}
	if c != nil && c.stream == stream && slices.Contains(c.revisions, rev) {
		return nil
	}
	return fmt.Errorf("append to %s: %s holds event %s at revision %d, where this store meant to put event %s, and no append of this store "+
		"reserved that place for %s: the server does not keep event IDs as given (or a program other than this store appends to the stream), "+
		"on which this store relies to recognise a repeated append; check that the URI names a KurrentDB or EventStoreDB server: %w",
		stream, s.uri, other, rev, id, other, ErrBadAnswer)
}

// reservedElsewhere explains why event i of the batch, whose ID c reserves
// for a stream other than stream, cannot be appended.
func (s *Store) reservedElsewhere(ctx context.Context, stream string, events []eventstore.EventData, i int, c *claim) error {
	id := events[i].ID
	if rev, ok, err := s.locate(ctx, c.stream, id, c.revisions); err == nil && ok {
		// An ID stored in another stream is refused whatever else holds.
		_, err := eventstore.CheckRepeat(stream, eventstore.Any(), events, 0, eventstore.Stored{Index: i, Stream: c.stream, Revision: rev})
		return err
	}
	return fmt.Errorf("append to %s: event %s (event %d of the batch) is reserved for stream %s by an append that did not complete, and may only ever be stored there: "+
		"give the new events new IDs: %w", stream, id, i+1, c.stream, eventstore.ErrDuplicateEvent)
}

// maxParallel bounds the calls one operation has in flight at once.
const maxParallel = 16

// parallel calls f(0) … f(n-1), up to maxParallel at a time, and returns
// the first error by index, preferring any error to errAgain. It starts no
// more calls once ctx is done.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	if n == 1 {
		return f(0)
	}
	errs := make([]error, n)
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	var again error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, errAgain):
			again = err
		default:
			return err
		}
	}
	return again
}
